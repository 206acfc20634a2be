/*
 * Tests of the IPMI driver: the protocol state machine (ipmi-session.c)
 * against a fake BMC with a fake clock, table-driven over the commands,
 * cipher suites and faults; then the libevent shell (ipmi.c) against the
 * same fake BMC served on a 127.0.0.1 UDP port in this process (cancel,
 * deferred callbacks).
 *
 * The fake BMC is built from libfreeipmi's own packet functions. The
 * library only assembles requests and unassembles responses, so the BMC
 * reads requests with the response message header template and writes
 * answers with the request one: both have the same layout (address, LUN
 * and net function, checksum, address, LUN and sequence), only the field
 * names differ. The few MACs libfreeipmi has no helper to compute (RAKP 2
 * and RAKP 4) use the SHA-1/SHA-256 HMAC below, written from FIPS 180-4
 * and RFC 2104 and checked against their test vectors.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <freeipmi/freeipmi.h>

#include "common/xmalloc.h"
#include "drivers/ipmi-session.h"
#include "drivers/ipmi.h"

/* --- SHA-1, SHA-256, HMAC -------------------------------------------- */

static uint32_t
rol32(uint32_t x, int n)
{
	return ((x << n) | (x >> (32 - n)));
}

static uint32_t
ror32(uint32_t x, int n)
{
	return ((x >> n) | (x << (32 - n)));
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* The message padded to whole 64-byte blocks, as both hashes want. */
static uint8_t *
sha_pad(const uint8_t *m, size_t len, size_t *total)
{
	uint64_t bits = (uint64_t)len * 8;
	uint8_t *p;
	int i;

	*total = ((len + 8) / 64 + 1) * 64;
	p = xcalloc(1, *total);
	memcpy(p, m, len);
	p[len] = 0x80;
	for (i = 0; i < 8; i++)
		p[*total - 1 - i] = bits >> (8 * i);
	return (p);
}

static void
sha1(const uint8_t *m, size_t len, uint8_t *out)
{
	uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
	    0xc3d2e1f0};
	uint32_t w[80], a, b, c, d, e, f, k, t;
	size_t total, off;
	uint8_t *p = sha_pad(m, len, &total);
	int i;

	for (off = 0; off < total; off += 64) {
		for (i = 0; i < 16; i++)
			w[i] = get_be32(p + off + 4 * i);
		for (i = 16; i < 80; i++)
			w[i] = rol32(
			    w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (i = 0; i < 80; i++) {
			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5a827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ed9eba1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
			else
				f = b ^ c ^ d, k = 0xca62c1d6;
			t = rol32(a, 5) + f + e + k + w[i];
			e = d, d = c, c = rol32(b, 30), b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	free(p);
	for (i = 0; i < 20; i++)
		out[i] = h[i / 4] >> (24 - 8 * (i % 4));
}

static const uint32_t sha256_k[64] = {0x428a2f98, 0x71374491, 0xb5c0fbcf,
    0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
    0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
    0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c,
    0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee,
    0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static void
sha256(const uint8_t *m, size_t len, uint8_t *out)
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	uint32_t w[64], v[8], s0, s1, t1, t2;
	size_t total, off;
	uint8_t *p = sha_pad(m, len, &total);
	int i;

	for (off = 0; off < total; off += 64) {
		for (i = 0; i < 16; i++)
			w[i] = get_be32(p + off + 4 * i);
		for (i = 16; i < 64; i++) {
			s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^
			    (w[i - 15] >> 3);
			s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^
			    (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		memcpy(v, h, sizeof v);
		for (i = 0; i < 64; i++) {
			s1 = ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25);
			t1 = v[7] + s1 + ((v[4] & v[5]) ^ (~v[4] & v[6])) +
			    sha256_k[i] + w[i];
			s0 = ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22);
			t2 = s0 +
			    ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
			memmove(v + 1, v, 7 * sizeof v[0]);
			v[4] += t1;
			v[0] = t1 + t2;
		}
		for (i = 0; i < 8; i++)
			h[i] += v[i];
	}
	free(p);
	for (i = 0; i < 32; i++)
		out[i] = h[i / 4] >> (24 - 8 * (i % 4));
}

/* HMAC with SHA-1 (sha256 == 0) or SHA-256; the MAC length. */
static size_t
hmac(int use_sha256, const void *key, size_t keylen, const void *msg,
    size_t len, uint8_t *out)
{
	size_t dlen = use_sha256 ? 32 : 20, i;
	uint8_t k0[64] = {0}, inner[32], *buf;
	void (*hash)(const uint8_t *, size_t, uint8_t *) =
	    use_sha256 ? sha256 : sha1;

	if (keylen > 64)
		hash(key, keylen, k0);
	else
		memcpy(k0, key, keylen);
	buf = xmalloc(64 + (len > dlen ? len : dlen));
	for (i = 0; i < 64; i++)
		buf[i] = k0[i] ^ 0x36;
	memcpy(buf + 64, msg, len);
	hash(buf, 64 + len, inner);
	for (i = 0; i < 64; i++)
		buf[i] = k0[i] ^ 0x5c;
	memcpy(buf + 64, inner, dlen);
	hash(buf, 64 + dlen, out);
	free(buf);
	return (dlen);
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void
test_hashes(void **state)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t d[32];
	char h[65];

	sha1((const uint8_t *)"abc", 3, d);
	hex(d, 20, h);
	assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha256((const uint8_t *)"abc", 3, d);
	hex(d, 32, h);
	assert_string_equal(h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hmac(0, "key", 3, fox, strlen(fox), d);
	hex(d, 20, h);
	assert_string_equal(h, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
	hmac(1, "key", 3, fox, strlen(fox), d);
	hex(d, 32, h);
	assert_string_equal(h,
	    "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

/* --- the fake BMC ----------------------------------------------------- */

/* Any command: its code and whatever follows, as the BMC reads it. */
static fiid_field_t tmpl_any_rq[] = {
    {8, "cmd", FIID_FIELD_REQUIRED | FIID_FIELD_LENGTH_FIXED},
    {2048, "data", FIID_FIELD_OPTIONAL | FIID_FIELD_LENGTH_VARIABLE},
    {0, "", 0},
};
/* Any answer: code, completion code and data. */
static fiid_field_t tmpl_any_rs[] = {
    {8, "cmd", FIID_FIELD_REQUIRED | FIID_FIELD_LENGTH_FIXED},
    {8, "comp_code", FIID_FIELD_REQUIRED | FIID_FIELD_LENGTH_FIXED},
    {2048, "data", FIID_FIELD_OPTIONAL | FIID_FIELD_LENGTH_VARIABLE},
    {0, "", 0},
};

/* Kinds of requests, for counters and faults. */
enum fb_kind {
	FB_AUTH_CAPS,
	FB_OPEN,
	FB_RAKP1,
	FB_RAKP3,
	FB_PRIV,
	FB_STATUS,
	FB_CONTROL,
	FB_CLOSE,
	FB_KINDS,
};

struct fb_opts {
	const char *user;     /* the BMC's one user */
	const char *password; /* and its password */
	int on;               /* chassis power */
	uint8_t max_priv;     /* the user's limit; 0: admin */
	int quirk_open_priv;  /* grants what Open Session asks (ipmi_sim) */
	int silent;           /* answers nothing */
	int silent_after;     /* answers only this many requests (0: all) */
	int garbage;          /* a garbage datagram before every answer */
	int garbage_only;     /* garbage instead of every answer */
	uint8_t status_cc;    /* completion code of Get Chassis Status */
	uint8_t control_cc;   /* completion code of Chassis Control */
	unsigned control_ms;  /* Chassis Control takes this long, one at a
				 time (ipmi_sim's popen of its hook) */
	unsigned drop_first;  /* bit per kind: drop its first request */
	int no_close;         /* never answers Close Session */
};

struct fb_datagram {
	uint64_t at;
	size_t len;
	uint8_t buf[512];
};

struct fbmc {
	struct fb_opts o;
	unsigned got[FB_KINDS]; /* requests received (and handled) */
	unsigned bad;           /* requests it could not read */
	unsigned answers;
	unsigned dropped; /* bits: kinds already dropped once */
	int last_control; /* Chassis Control code run last */
	uint64_t busy_until;

	/* The session. */
	uint32_t console_sid;
	uint32_t bmc_sid;
	uint8_t console_random[16];
	uint8_t bmc_random[16];
	uint8_t guid[16];
	uint8_t role; /* privilege byte of RAKP 1, lookup bit included */
	char user[17];
	uint8_t auth, integ, conf;
	uint8_t sik[64], k1[64], k2[64];
	void *sik_p, *k1_p, *k2_p;
	unsigned sik_len, k1_len, k2_len;
	uint32_t out_seq;
	uint8_t priv;

	struct fb_datagram q[64];
	int nq;
};

static void
fb_init(struct fbmc *fb, const struct fb_opts *o)
{
	memset(fb, 0, sizeof *fb);
	fb->o = *o;
	if (fb->o.user == NULL)
		fb->o.user = "admin";
	if (fb->o.password == NULL)
		fb->o.password = "secret";
	if (fb->o.max_priv == 0)
		fb->o.max_priv = IPMI_PRIVILEGE_LEVEL_ADMIN;
	fb->last_control = -1;
	memcpy(fb->guid, "rhubarb-fake-bmc", 16);
}

static void
fb_queue(struct fbmc *fb, uint64_t at, const void *buf, size_t len)
{
	struct fb_datagram *d;

	assert_true(fb->nq < (int)nitems(fb->q));
	assert_true(len <= sizeof fb->q[0].buf);
	d = &fb->q[fb->nq++];
	d->at = at;
	d->len = len;
	memcpy(d->buf, buf, len);
}

/* The earliest datagram due, by now; 1 if one was popped. */
static int
fb_pop(struct fbmc *fb, uint64_t now, uint8_t *buf, size_t *len)
{
	int i, best = -1;

	for (i = 0; i < fb->nq; i++)
		if (fb->q[i].at <= now &&
		    (best == -1 || fb->q[i].at < fb->q[best].at))
			best = i;
	if (best == -1)
		return (0);
	*len = fb->q[best].len;
	memcpy(buf, fb->q[best].buf, *len);
	memmove(&fb->q[best], &fb->q[best + 1],
	    (fb->nq - best - 1) * sizeof fb->q[0]);
	fb->nq--;
	return (1);
}

static uint64_t
fb_next(const struct fbmc *fb)
{
	uint64_t t = UINT64_MAX;
	int i;

	for (i = 0; i < fb->nq; i++)
		if (fb->q[i].at < t)
			t = fb->q[i].at;
	return (t);
}

static void
fb_answer(struct fbmc *fb, uint64_t at, const void *buf, size_t len)
{
	static const uint8_t junk[] = {0x06, 0x00, 0xff, 0x07, 0x06, 0x00, 0xde,
	    0xad, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x81, 0x1c,
	    0x63, 0x20, 0x04, 0x3b, 0x00, 0x42};

	if (fb->o.garbage || fb->o.garbage_only)
		fb_queue(fb, at, junk, sizeof junk);
	if (!fb->o.garbage_only)
		fb_queue(fb, at, buf, len);
}

/* The message header of an answer, in the request template's shape. */
static fiid_obj_t
fb_msg_hdr(fiid_obj_t rq_hdr_as_rs, uint8_t net_fn)
{
	fiid_obj_t h = fiid_obj_create(tmpl_lan_msg_hdr_rq);
	uint8_t b[2];
	uint64_t v;

	assert_non_null(h);
	fiid_obj_get(rq_hdr_as_rs, "rs_addr", &v); /* requester's address */
	assert_int_equal(fiid_obj_set(h, "rs_addr", v), 0);
	assert_int_equal(fiid_obj_set(h, "rs_lun", 0), 0);
	assert_int_equal(fiid_obj_set(h, "net_fn", net_fn | 1), 0);
	assert_int_equal(fiid_obj_get_block(h, "rs_addr", "net_fn", b, 2), 2);
	assert_int_equal(fiid_obj_set(h, "checksum1", ipmi_checksum(b, 2)), 0);
	assert_int_equal(fiid_obj_set(h, "rq_addr", IPMI_SLAVE_ADDRESS_BMC), 0);
	assert_int_equal(fiid_obj_set(h, "rq_lun", 0), 0);
	fiid_obj_get(rq_hdr_as_rs, "rq_seq", &v);
	assert_int_equal(fiid_obj_set(h, "rq_seq", v), 0);
	return (h);
}

static uint64_t
fb_get(fiid_obj_t o, const char *f)
{
	uint64_t v = 0;

	fiid_obj_get(o, f, &v);
	return (v);
}

/* Get Channel Authentication Capabilities, an IPMI 1.5 packet. */
static void
fb_auth_caps(struct fbmc *fb, const uint8_t *pkt, size_t len, uint64_t now)
{
	fiid_obj_t rmcp = fiid_obj_create(tmpl_rmcp_hdr);
	fiid_obj_t sess = fiid_obj_create(tmpl_lan_session_hdr);
	fiid_obj_t hdr = fiid_obj_create(tmpl_lan_msg_hdr_rs);
	fiid_obj_t trlr = fiid_obj_create(tmpl_lan_msg_trlr);
	fiid_obj_t rq = fiid_obj_create(tmpl_any_rq);
	fiid_obj_t rs = fiid_obj_create(
	    tmpl_cmd_get_channel_authentication_capabilities_rs);
	fiid_obj_t rhdr;
	uint8_t out[512];
	int n;

	if (unassemble_ipmi_lan_pkt(pkt, len, rmcp, sess, hdr, rq, trlr, 0) !=
		1 ||
	    fb_get(rq, "cmd") !=
		IPMI_CMD_GET_CHANNEL_AUTHENTICATION_CAPABILITIES) {
		fb->bad++;
		goto out;
	}
	fb->got[FB_AUTH_CAPS]++;
	fiid_obj_set(rs, "cmd",
	    IPMI_CMD_GET_CHANNEL_AUTHENTICATION_CAPABILITIES);
	fiid_obj_set(rs, "comp_code", 0);
	fiid_obj_set(rs, "channel_number", 1);
	fiid_obj_set(rs, "authentication_type.none", 0);
	fiid_obj_set(rs, "authentication_type.md2", 0);
	fiid_obj_set(rs, "authentication_type.md5", 1);
	fiid_obj_set(rs, "authentication_type.reserved1", 0);
	fiid_obj_set(rs, "authentication_type.straight_password_key", 1);
	fiid_obj_set(rs, "authentication_type.oem_prop", 0);
	fiid_obj_set(rs, "authentication_type.reserved2", 0);
	fiid_obj_set(rs,
	    "authentication_type.ipmi_v2.0_extended_capabilities_available", 1);
	fiid_obj_set(rs, "authentication_status.anonymous_login", 0);
	fiid_obj_set(rs, "authentication_status.null_username", 0);
	fiid_obj_set(rs, "authentication_status.non_null_username", 1);
	fiid_obj_set(rs, "authentication_status.user_level_authentication", 0);
	fiid_obj_set(rs, "authentication_status.per_message_authentication", 0);
	fiid_obj_set(rs, "authentication_status.k_g", 0);
	fiid_obj_set(rs, "authentication_status.reserved", 0);
	fiid_obj_set(rs, "channel_supports_ipmi_v1.5_connections", 1);
	fiid_obj_set(rs, "channel_supports_ipmi_v2.0_connections", 1);
	fiid_obj_set(rs, "reserved", 0);
	fiid_obj_set(rs, "oem_id", 0);
	fiid_obj_set(rs, "oem_auxiliary_data", 0);
	rhdr = fb_msg_hdr(hdr, IPMI_NET_FN_APP_RQ);
	assert_int_equal(fill_rmcp_hdr_ipmi(rmcp), 0);
	assert_int_equal(
	    fill_lan_session_hdr(IPMI_AUTHENTICATION_TYPE_NONE, 0, 0, sess), 0);
	n = assemble_ipmi_lan_pkt(rmcp, sess, rhdr, rs, NULL, 0, out,
	    sizeof out, 0);
	assert_true(n > 0);
	fb_answer(fb, now, out, n);
	fiid_obj_destroy(rhdr);
out:
	fiid_obj_destroy(rmcp);
	fiid_obj_destroy(sess);
	fiid_obj_destroy(hdr);
	fiid_obj_destroy(trlr);
	fiid_obj_destroy(rq);
	fiid_obj_destroy(rs);
}

/* A session setup answer: RMCP and session headers, then the payload. */
static void
fb_setup_answer(struct fbmc *fb, uint64_t now, uint8_t type, fiid_obj_t obj)
{
	fiid_obj_t rmcp = fiid_obj_create(tmpl_rmcp_hdr);
	uint8_t out[512];
	int n, plen;

	assert_int_equal(fill_rmcp_hdr_ipmi(rmcp), 0);
	n = fiid_obj_get_all(rmcp, out, sizeof out);
	assert_int_equal(n, 4);
	fiid_obj_destroy(rmcp);
	memset(out + 4, 0, 12);
	out[4] = IPMI_AUTHENTICATION_TYPE_RMCPPLUS;
	out[5] = type;
	plen = fiid_obj_get_all(obj, out + 16, sizeof out - 16);
	assert_true(plen > 0);
	out[14] = plen & 0xff;
	out[15] = plen >> 8;
	fb_answer(fb, now, out, 16 + plen);
}

static int
fb_sha256(const struct fbmc *fb)
{
	return (fb->auth == IPMI_AUTHENTICATION_ALGORITHM_RAKP_HMAC_SHA256);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static void
fb_open_session(struct fbmc *fb, fiid_obj_t rq, uint64_t now)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_rmcpplus_open_session_response);
	uint8_t status = RMCPPLUS_STATUS_NO_ERRORS, asked, granted;

	fb->got[FB_OPEN]++;
	fb->console_sid = fb_get(rq, "remote_console_session_id");
	fb->auth =
	    fb_get(rq, "authentication_payload.authentication_algorithm");
	fb->integ = fb_get(rq, "integrity_payload.integrity_algorithm");
	fb->conf =
	    fb_get(rq, "confidentiality_payload.confidentiality_algorithm");
	if (fb->auth == IPMI_AUTHENTICATION_ALGORITHM_RAKP_HMAC_MD5)
		status =
		    RMCPPLUS_STATUS_NO_CIPHER_SUITE_MATCH_WITH_PROPOSED_SECURITY_ALGORITHMS;
	do
		ipmi_get_random(&fb->bmc_sid, sizeof fb->bmc_sid);
	while (fb->bmc_sid == 0);
	fb->out_seq = 0;
	asked = fb_get(rq, "requested_maximum_privilege_level");
	granted = asked == IPMI_PRIVILEGE_LEVEL_HIGHEST_LEVEL ? fb->o.max_priv
							      : asked;
	if (fb->o.quirk_open_priv)
		granted = asked;
	fiid_obj_set(rs, "message_tag", fb_get(rq, "message_tag"));
	fiid_obj_set(rs, "rmcpplus_status_code", status);
	fiid_obj_set(rs, "maximum_privilege_level", granted);
	fiid_obj_set(rs, "reserved1", 0);
	fiid_obj_set(rs, "reserved2", 0);
	fiid_obj_set(rs, "remote_console_session_id", fb->console_sid);
	fiid_obj_set(rs, "managed_system_session_id", fb->bmc_sid);
	fiid_obj_set(rs, "authentication_payload.payload_type", 0);
	fiid_obj_set(rs, "reserved3", 0);
	fiid_obj_set(rs, "authentication_payload.payload_length", 8);
	fiid_obj_set(rs, "authentication_payload.authentication_algorithm",
	    fb->auth);
	fiid_obj_set(rs, "reserved4", 0);
	fiid_obj_set(rs, "reserved5", 0);
	fiid_obj_set(rs, "integrity_payload.payload_type", 1);
	fiid_obj_set(rs, "reserved6", 0);
	fiid_obj_set(rs, "integrity_payload.payload_length", 8);
	fiid_obj_set(rs, "integrity_payload.integrity_algorithm", fb->integ);
	fiid_obj_set(rs, "reserved7", 0);
	fiid_obj_set(rs, "reserved8", 0);
	fiid_obj_set(rs, "confidentiality_payload.payload_type", 2);
	fiid_obj_set(rs, "reserved9", 0);
	fiid_obj_set(rs, "confidentiality_payload.payload_length", 8);
	fiid_obj_set(rs, "confidentiality_payload.confidentiality_algorithm",
	    fb->conf);
	fiid_obj_set(rs, "reserved10", 0);
	fiid_obj_set(rs, "reserved11", 0);
	fb_setup_answer(fb, now,
	    IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_RESPONSE, rs);
	fiid_obj_destroy(rs);
}

static void
fb_rakp1(struct fbmc *fb, fiid_obj_t rq, uint64_t now)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_rmcpplus_rakp_message_2);
	uint8_t data[128], code[32];
	size_t n = 0, clen = 0;
	int ulen;
	uint8_t status = RMCPPLUS_STATUS_NO_ERRORS;

	fb->got[FB_RAKP1]++;
	memset(fb->user, 0, sizeof fb->user);
	ulen = fiid_obj_get_data(rq, "user_name", fb->user, 16);
	if (ulen < 0)
		ulen = 0;
	fiid_obj_get_data(rq, "remote_console_random_number",
	    fb->console_random, 16);
	fb->role = fb_get(rq, "requested_maximum_privilege_level") |
	    (fb_get(rq, "name_only_lookup") ? 0x10 : 0);
	if ((size_t)ulen != strlen(fb->o.user) ||
	    memcmp(fb->user, fb->o.user, ulen) != 0)
		status = RMCPPLUS_STATUS_UNAUTHORIZED_NAME;
	ipmi_get_random(fb->bmc_random, 16);

	/* SIDm SIDc Rm Rc GUIDc ROLEm ULENGTHm UNAMEm, keyed by K_uid. */
	put_le32(data + n, fb->console_sid), n += 4;
	put_le32(data + n, fb->bmc_sid), n += 4;
	memcpy(data + n, fb->console_random, 16), n += 16;
	memcpy(data + n, fb->bmc_random, 16), n += 16;
	memcpy(data + n, fb->guid, 16), n += 16;
	data[n++] = fb->role;
	data[n++] = ulen;
	memcpy(data + n, fb->user, ulen), n += ulen;
	if (fb->auth != IPMI_AUTHENTICATION_ALGORITHM_RAKP_NONE)
		clen = hmac(fb_sha256(fb), fb->o.password,
		    strlen(fb->o.password), data, n, code);

	fiid_obj_set(rs, "message_tag", fb_get(rq, "message_tag"));
	fiid_obj_set(rs, "rmcpplus_status_code", status);
	fiid_obj_set(rs, "reserved1", 0);
	fiid_obj_set(rs, "remote_console_session_id", fb->console_sid);
	fiid_obj_set_data(rs, "managed_system_random_number", fb->bmc_random,
	    16);
	fiid_obj_set_data(rs, "managed_system_guid", fb->guid, 16);
	if (clen > 0 && status == RMCPPLUS_STATUS_NO_ERRORS)
		fiid_obj_set_data(rs, "key_exchange_authentication_code", code,
		    clen);
	fb_setup_answer(fb, now, IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_2, rs);
	fiid_obj_destroy(rs);
}

static void
fb_rakp3(struct fbmc *fb, fiid_obj_t rq, uint64_t now)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_rmcpplus_rakp_message_4);
	uint8_t want[64], got[64], data[64], icv[32];
	int wlen, glen;
	size_t n = 0, ilen = 0;
	size_t ulen = strlen(fb->user);
	const char *pw = fb->o.password;
	uint8_t status = RMCPPLUS_STATUS_NO_ERRORS;

	fb->got[FB_RAKP3]++;
	wlen = ipmi_calculate_rakp_3_key_exchange_authentication_code(fb->auth,
	    *pw ? pw : NULL, strlen(pw), fb->bmc_random, 16, fb->console_sid,
	    fb->role >> 4, fb->role & 0xf, ulen ? fb->user : NULL, ulen, want,
	    sizeof want);
	glen = fiid_obj_get_data(rq, "key_exchange_authentication_code", got,
	    sizeof got);
	if (glen < 0)
		glen = 0;
	if (wlen != glen || memcmp(want, got, wlen) != 0)
		status = RMCPPLUS_STATUS_INVALID_INTEGRITY_CHECK_VALUE;

	fb->sik_p = fb->sik, fb->k1_p = fb->k1, fb->k2_p = fb->k2;
	fb->sik_len = fb->k1_len = fb->k2_len = 64;
	assert_int_equal(
	    ipmi_calculate_rmcpplus_session_keys(fb->auth, fb->integ, fb->conf,
		*pw ? pw : NULL, strlen(pw), NULL, 0, fb->console_random, 16,
		fb->bmc_random, 16, fb->role >> 4, fb->role & 0xf,
		ulen ? fb->user : NULL, ulen, &fb->sik_p, &fb->sik_len,
		&fb->k1_p, &fb->k1_len, &fb->k2_p, &fb->k2_len),
	    0);
	/* Rm SIDc GUIDc, keyed by the SIK, truncated. */
	memcpy(data + n, fb->console_random, 16), n += 16;
	put_le32(data + n, fb->bmc_sid), n += 4;
	memcpy(data + n, fb->guid, 16), n += 16;
	if (fb->auth != IPMI_AUTHENTICATION_ALGORITHM_RAKP_NONE) {
		hmac(fb_sha256(fb), fb->sik_p, fb->sik_len, data, n, icv);
		ilen = fb_sha256(fb) ? 16 : 12;
	}
	fiid_obj_set(rs, "message_tag", fb_get(rq, "message_tag"));
	fiid_obj_set(rs, "rmcpplus_status_code", status);
	fiid_obj_set(rs, "reserved1", 0);
	fiid_obj_set(rs, "remote_console_session_id", fb->console_sid);
	if (ilen > 0 && status == RMCPPLUS_STATUS_NO_ERRORS)
		fiid_obj_set_data(rs, "integrity_check_value", icv, ilen);
	fb->priv = IPMI_PRIVILEGE_LEVEL_USER;
	fb_setup_answer(fb, now, IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_4, rs);
	fiid_obj_destroy(rs);
}

/* An answer in the session, signed and encrypted as agreed. */
static void
fb_session_answer(struct fbmc *fb, uint64_t at, fiid_obj_t rq_hdr,
    uint8_t net_fn, uint8_t cmd, uint8_t cc, const void *data, size_t dlen)
{
	fiid_obj_t rmcp = fiid_obj_create(tmpl_rmcp_hdr);
	fiid_obj_t sess = fiid_obj_create(tmpl_rmcpplus_session_hdr);
	fiid_obj_t trlr = fiid_obj_create(tmpl_rmcpplus_session_trlr);
	fiid_obj_t rs = fiid_obj_create(tmpl_any_rs);
	fiid_obj_t hdr = fb_msg_hdr(rq_hdr, net_fn);
	const char *pw = fb->o.password;
	uint8_t out[512];
	int n;

	fiid_obj_set(rs, "cmd", cmd);
	fiid_obj_set(rs, "comp_code", cc);
	if (dlen > 0)
		fiid_obj_set_data(rs, "data", data, dlen);
	assert_int_equal(fill_rmcp_hdr_ipmi(rmcp), 0);
	assert_int_equal(fill_rmcpplus_session_hdr(IPMI_PAYLOAD_TYPE_IPMI,
			     fb->integ != IPMI_INTEGRITY_ALGORITHM_NONE,
			     fb->conf != IPMI_CONFIDENTIALITY_ALGORITHM_NONE, 0,
			     0, fb->console_sid, ++fb->out_seq, sess),
	    0);
	assert_int_equal(fill_rmcpplus_session_trlr(trlr), 0);
	n = assemble_ipmi_rmcpplus_pkt(fb->auth, fb->integ, fb->conf, fb->k1_p,
	    fb->k1_len, fb->k2_p, fb->k2_len, pw, strlen(pw), rmcp, sess, hdr,
	    rs, trlr, out, sizeof out, 0);
	assert_true(n > 0);
	fb_answer(fb, at, out, n);
	fiid_obj_destroy(rmcp);
	fiid_obj_destroy(sess);
	fiid_obj_destroy(trlr);
	fiid_obj_destroy(rs);
	fiid_obj_destroy(hdr);
}

static void
fb_session(struct fbmc *fb, const uint8_t *pkt, size_t len, uint64_t now)
{
	fiid_obj_t rmcp = fiid_obj_create(tmpl_rmcp_hdr);
	fiid_obj_t sess = fiid_obj_create(tmpl_rmcpplus_session_hdr);
	fiid_obj_t payload = fiid_obj_create(tmpl_rmcpplus_payload);
	fiid_obj_t hdr = fiid_obj_create(tmpl_lan_msg_hdr_rs);
	fiid_obj_t rq = fiid_obj_create(tmpl_any_rq);
	fiid_obj_t mtrlr = fiid_obj_create(tmpl_lan_msg_trlr);
	fiid_obj_t trlr = fiid_obj_create(tmpl_rmcpplus_session_trlr);
	const char *pw = fb->o.password;
	uint8_t data[8], net_fn, cmd, answer[3];
	uint64_t at = now;
	int dlen;

	if (fb->bmc_sid == 0 ||
	    unassemble_ipmi_rmcpplus_pkt(fb->auth, fb->integ, fb->conf,
		fb->k1_p, fb->k1_len, fb->k2_p, fb->k2_len, pkt, len, rmcp,
		sess, payload, hdr, rq, mtrlr, trlr, 0) != 1 ||
	    fb_get(sess, "session_id") != fb->bmc_sid ||
	    (fb->integ != IPMI_INTEGRITY_ALGORITHM_NONE &&
		ipmi_rmcpplus_check_packet_session_authentication_code(
		    fb->integ, pkt, len, fb->k1_p, fb->k1_len, pw, strlen(pw),
		    trlr) != 1)) {
		fb->bad++;
		goto out;
	}
	net_fn = fb_get(hdr, "net_fn");
	cmd = fb_get(rq, "cmd");
	dlen = fiid_obj_get_data(rq, "data", data, sizeof data);
	if (net_fn == IPMI_NET_FN_APP_RQ &&
	    cmd == IPMI_CMD_SET_SESSION_PRIVILEGE_LEVEL && dlen >= 1) {
		fb->got[FB_PRIV]++;
		if ((data[0] & 0xf) > fb->o.max_priv)
			fb_session_answer(fb, at, hdr, net_fn, cmd,
			    IPMI_COMP_CODE_SET_SESSION_PRIVILEGE_LEVEL_REQUESTED_LEVEL_EXCEEDS_USER_PRIVILEGE_LIMIT,
			    NULL, 0);
		else {
			fb->priv = data[0] & 0xf;
			fb_session_answer(fb, at, hdr, net_fn, cmd, 0,
			    &fb->priv, 1);
		}
	} else if (net_fn == IPMI_NET_FN_CHASSIS_RQ &&
	    cmd == IPMI_CMD_GET_CHASSIS_STATUS) {
		fb->got[FB_STATUS]++;
		answer[0] = fb->o.on ? 1 : 0, answer[1] = 0, answer[2] = 0;
		fb_session_answer(fb, at, hdr, net_fn, cmd, fb->o.status_cc,
		    fb->o.status_cc ? NULL : answer, fb->o.status_cc ? 0 : 3);
	} else if (net_fn == IPMI_NET_FN_CHASSIS_RQ &&
	    cmd == IPMI_CMD_CHASSIS_CONTROL && dlen >= 1) {
		/* Every copy runs, one after the other. */
		fb->got[FB_CONTROL]++;
		if (fb->o.control_cc == 0)
			fb->last_control = data[0] & 0xf;
		if (fb->busy_until > at)
			at = fb->busy_until;
		at += fb->o.control_ms;
		fb->busy_until = at;
		fb_session_answer(fb, at, hdr, net_fn, cmd, fb->o.control_cc,
		    NULL, 0);
	} else if (net_fn == IPMI_NET_FN_APP_RQ &&
	    cmd == IPMI_CMD_CLOSE_SESSION) {
		fb->got[FB_CLOSE]++;
		if (!fb->o.no_close)
			fb_session_answer(fb, at, hdr, net_fn, cmd, 0, NULL, 0);
	} else
		fb->bad++;
out:
	fiid_obj_destroy(rmcp);
	fiid_obj_destroy(sess);
	fiid_obj_destroy(payload);
	fiid_obj_destroy(hdr);
	fiid_obj_destroy(rq);
	fiid_obj_destroy(mtrlr);
	fiid_obj_destroy(trlr);
}

/* Which kind a datagram is, without changing anything. */
static int
fb_kind(const struct fbmc *fb, const uint8_t *pkt, size_t len)
{
	if (len < 16)
		return (-1);
	if (ipmi_is_ipmi_1_5_packet(pkt, len) == 1)
		return (FB_AUTH_CAPS);
	switch (pkt[5] & 0x3f) {
	case IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_REQUEST:
		return (FB_OPEN);
	case IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_1:
		return (FB_RAKP1);
	case IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_3:
		return (FB_RAKP3);
	case IPMI_PAYLOAD_TYPE_IPMI:
		/* Encrypted: guess by what the session waits for. */
		return (FB_PRIV);
	}
	return (-1);
}

/* A request arrives at now. */
static void
fb_recv(struct fbmc *fb, const uint8_t *pkt, size_t len, uint64_t now)
{
	fiid_obj_t obj;
	int kind = fb_kind(fb, pkt, len);

	if (fb->o.silent)
		return;
	if (kind == -1) {
		fb->bad++;
		return;
	}
	/* Drop the first request of a kind (the session ones by order). */
	if (kind == FB_PRIV)
		kind = fb->got[FB_PRIV] == 0                        ? FB_PRIV
		    : fb->got[FB_STATUS] + fb->got[FB_CONTROL] == 0 ? FB_CONTROL
								    : FB_CLOSE;
	if ((fb->o.drop_first & (1u << kind)) &&
	    !(fb->dropped & (1u << kind))) {
		fb->dropped |= 1u << kind;
		return;
	}
	if (fb->o.silent_after && (int)fb->answers >= fb->o.silent_after)
		return;
	fb->answers++;
	switch (pkt[5] & 0x3f) {
	case IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_REQUEST:
	case IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_1:
	case IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_3:
		if (ipmi_is_ipmi_1_5_packet(pkt, len) == 1)
			break;
		obj = fiid_obj_create((pkt[5] & 0x3f) ==
			    IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_REQUEST
			? tmpl_rmcpplus_open_session_request
			: (pkt[5] & 0x3f) == IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_1
			? tmpl_rmcpplus_rakp_message_1
			: tmpl_rmcpplus_rakp_message_3);
		if (fiid_obj_set_all(obj, pkt + 16, len - 16) < 0) {
			fb->bad++;
		} else if ((pkt[5] & 0x3f) ==
		    IPMI_PAYLOAD_TYPE_RMCPPLUS_OPEN_SESSION_REQUEST)
			fb_open_session(fb, obj, now);
		else if ((pkt[5] & 0x3f) == IPMI_PAYLOAD_TYPE_RAKP_MESSAGE_1)
			fb_rakp1(fb, obj, now);
		else
			fb_rakp3(fb, obj, now);
		fiid_obj_destroy(obj);
		return;
	}
	if (ipmi_is_ipmi_1_5_packet(pkt, len) == 1)
		fb_auth_caps(fb, pkt, len, now);
	else
		fb_session(fb, pkt, len, now);
}

/* --- the state machine against the fake BMC, fake clock --------------- */

struct outcome {
	struct power_reply reply;
	uint64_t ms;      /* fake time taken */
	unsigned sent;    /* datagrams sent */
	unsigned control; /* Chassis Control requests sent */
	int leaked;       /* the password was seen in a datagram */
};

/* Run one operation from time 1000 to its end. */
static void
drive(const struct ipmi_params *p, enum ipmi_command cmd, struct fbmc *fb,
    struct outcome *out)
{
	uint8_t buf[1024];
	size_t len;
	uint64_t start = 1000, now = start, next, t;
	struct ipmi_session *s;
	int steps;

	memset(out, 0, sizeof *out);
	s = ipmi_session_new(p, cmd, now);
	for (steps = 0; steps < 100000; steps++) {
		while ((len = ipmi_session_output(s, buf, sizeof buf)) > 0) {
			if (p->password != NULL && *p->password != '\0' &&
			    memmem(buf, len, p->password,
				strlen(p->password)) != NULL)
				out->leaked = 1;
			fb_recv(fb, buf, len, now);
		}
		if (ipmi_session_done(s, &out->reply))
			break;
		next = ipmi_session_next(s);
		if ((t = fb_next(fb)) < next)
			next = t;
		assert_true(next >= now);
		assert_true(next != UINT64_MAX);
		now = next;
		while (fb_pop(fb, now, buf, &len)) {
			ipmi_session_input(s, buf, len, now);
			while (
			    (len = ipmi_session_output(s, buf, sizeof buf)) > 0)
				fb_recv(fb, buf, len, now);
		}
		ipmi_session_timer(s, now);
	}
	assert_true(steps < 100000);
	out->ms = now - start;
	out->sent = ipmi_session_sent(s);
	out->control = ipmi_session_control_sent(s);
	ipmi_session_free(s);
}

static void
params_default(struct ipmi_params *p)
{
	memset(p, 0, sizeof *p);
	p->ip = "127.0.0.1";
	p->user = "admin";
	p->password = "secret";
	p->cipher = -1;
	p->privilege = IPMI_PRIV_OPERATOR;
	p->workarounds = IPMI_WORKAROUND_OPENSESSPRIV;
}

struct sm_case {
	const char *name;
	enum ipmi_command cmd;
	int cipher;           /* -1 default; -2 keep params_default's */
	const char *password; /* what we send; NULL: the BMC's */
	const char *user;     /* what we send; NULL: admin */
	enum ipmi_privilege priv;
	int no_workaround;
	unsigned timeout_ms, retransmit_ms, control_ms;
	struct fb_opts bmc;
	enum power_error error;
	enum power_state state;
	int runs;           /* Chassis Control runs in the BMC; -1: any */
	int closes;         /* Close Session received; -1: any */
	uint64_t max_ms;    /* at most this long (0: no bound) */
	uint64_t min_ms;    /* at least this long */
	const char *detail; /* substring of the detail, or NULL */
};

static const struct sm_case sm_cases[] = {
    {"status on", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0,
	0, {.on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"status off", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0,
	0, {.on = 0}, POWER_ERR_OK, POWER_STATE_OFF, 0, 1, 50, 0, NULL},
    {"status user privilege", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_USER,
	0, 0, 0, 0, {.on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"cipher 0", IPMI_CMD_STATUS, 0, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"cipher 1", IPMI_CMD_STATUS, 1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"cipher 2", IPMI_CMD_STATUS, 2, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"cipher 3", IPMI_CMD_OFF, 3, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.on = 1}, POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"cipher 17", IPMI_CMD_OFF, 17, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.on = 1}, POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"cipher 8 refused", IPMI_CMD_STATUS, 8, NULL, NULL, IPMI_PRIV_OPERATOR, 0,
	0, 0, 0, {.on = 1}, POWER_ERR_CONTROLLER_ERROR, POWER_STATE_UNKNOWN, 0,
	0, 50, 0, "0x11"},
    {"on", IPMI_CMD_ON, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {0},
	POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"cycle", IPMI_CMD_CYCLE, -1, NULL, NULL, IPMI_PRIV_ADMIN, 0, 0, 0, 0, {0},
	POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"reset", IPMI_CMD_RESET, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{0}, POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"soft", IPMI_CMD_SOFT, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {0},
	POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 50, 0, NULL},
    {"wrong password", IPMI_CMD_OFF, -1, "wrong", NULL, IPMI_PRIV_OPERATOR, 0,
	0, 0, 0, {0}, POWER_ERR_PASSWORD_INVALID, POWER_STATE_UNKNOWN, 0, 0, 50,
	0, "RAKP 2"},
    {"wrong password, cipher 17", IPMI_CMD_STATUS, 17, "wrong", NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {0}, POWER_ERR_PASSWORD_INVALID,
	POWER_STATE_UNKNOWN, 0, 0, 50, 0, NULL},
    /* RAKP "none" proves nothing: the BMC finds out at RAKP 3. */
    {"wrong password, cipher 0", IPMI_CMD_STATUS, 0, "wrong", NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {.password = ""}, POWER_ERR_OK,
	POWER_STATE_OFF, 0, 1, 50, 0, NULL},
    {"unknown user", IPMI_CMD_STATUS, -1, NULL, "nobody", IPMI_PRIV_OPERATOR, 0,
	0, 0, 0, {0}, POWER_ERR_USERNAME_INVALID, POWER_STATE_UNKNOWN, 0, 0, 50,
	0, "0x0D"},
    {"privilege refused", IPMI_CMD_OFF, -1, NULL, NULL, IPMI_PRIV_ADMIN, 0, 0,
	0, 0, {.max_priv = IPMI_PRIVILEGE_LEVEL_OPERATOR}, POWER_ERR_PRIVILEGE,
	POWER_STATE_UNKNOWN, 0, 1, 50, 0, "0x81"},
    {"open session privilege, no workaround", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 1, 0, 0, 0, {.quirk_open_priv = 1},
	POWER_ERR_PRIVILEGE, POWER_STATE_UNKNOWN, 0, 0, 50, 0, "opensesspriv"},
    {"open session privilege, workaround", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {.quirk_open_priv = 1, .on = 1},
	POWER_ERR_OK, POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"no workaround needed", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 1, 0, 0, 0, {.on = 1}, POWER_ERR_OK, POWER_STATE_ON,
	0, 1, 50, 0, NULL},
    {"busy control", IPMI_CMD_OFF, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0,
	0, {.control_cc = 0xc0}, POWER_ERR_BUSY, POWER_STATE_UNKNOWN, -1, 1, 50,
	0, "0xC0"},
    {"busy status", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0,
	0, 0, {.status_cc = 0xc0}, POWER_ERR_BUSY, POWER_STATE_UNKNOWN, 0, 1,
	50, 0, "0xC0"},
    {"control refused", IPMI_CMD_CYCLE, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0,
	0, 0, 0, {.control_cc = 0xcc}, POWER_ERR_CONTROLLER_ERROR,
	POWER_STATE_UNKNOWN, -1, 1, 50, 0, "0xCC"},
    {"control insufficient privilege", IPMI_CMD_ON, -1, NULL, NULL,
	IPMI_PRIV_USER, 0, 0, 0, 0, {.control_cc = 0xd4}, POWER_ERR_PRIVILEGE,
	POWER_STATE_UNKNOWN, -1, 1, 50, 0, "0xD4"},
    {"garbage before answers", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {.garbage = 1, .on = 1}, POWER_ERR_OK,
	POWER_STATE_ON, 0, 1, 50, 0, NULL},
    {"only garbage", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0,
	3000, 0, 0, {.garbage_only = 1}, POWER_ERR_BAD_REPLY,
	POWER_STATE_UNKNOWN, 0, 0, 3000, 3000, "none a valid answer"},
    {"silent", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.silent = 1}, POWER_ERR_CONNECT_TIMEOUT, POWER_STATE_UNKNOWN, 0, 0,
	20000, 20000, "Get Channel Authentication Capabilities"},
    {"silence after open session", IPMI_CMD_OFF, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 5000, 500, 0, {.silent_after = 2},
	POWER_ERR_SESSION_TIMEOUT, POWER_STATE_UNKNOWN, 0, 0, 5000, 5000,
	"RAKP 1"},
    {"lost first auth caps", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 700, 0,
	{.drop_first = 1u << FB_AUTH_CAPS, .on = 1}, POWER_ERR_OK,
	POWER_STATE_ON, 0, 1, 750, 700, NULL},
    {"lost first RAKP 3", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR,
	0, 0, 700, 0, {.drop_first = 1u << FB_RAKP3, .on = 1}, POWER_ERR_OK,
	POWER_STATE_ON, 0, 1, 750, 700, NULL},
    {"lost first Set Session Privilege", IPMI_CMD_STATUS, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 700, 0,
	{.drop_first = 1u << FB_PRIV, .on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0,
	1, 750, 700, NULL},
    /* The slow-BMC experiment: slower than retransmit_ms, faster than
     * control_retransmit_ms: sent once, run once. */
    {"slow control", IPMI_CMD_OFF, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0,
	400, 0, {.control_ms = 3000}, POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1,
	3050, 3000, NULL},
    /* What the experiment saw when control is resent as fast as the
     * rest: every copy runs. */
    {"slow control resent fast", IPMI_CMD_OFF, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 400, 400, {.control_ms = 1000}, POWER_ERR_OK,
	POWER_STATE_UNKNOWN, 3, 1, 1100, 1000, "sent 3 times"},
    {"control slower than the deadline", IPMI_CMD_OFF, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 12000, 1000, 5000, {.control_ms = 30000},
	POWER_ERR_SESSION_TIMEOUT, POWER_STATE_UNKNOWN, 3, 1, 12000, 12000,
	"may have run it"},
    {"lost control answer is resent at 5 s", IPMI_CMD_ON, -1, NULL, NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {.drop_first = 1u << FB_CONTROL},
	POWER_ERR_OK, POWER_STATE_UNKNOWN, 1, 1, 5050, 5000, NULL},
    {"no close answer", IPMI_CMD_STATUS, -1, NULL, NULL, IPMI_PRIV_OPERATOR, 0,
	0, 0, 0, {.no_close = 1, .on = 1}, POWER_ERR_OK, POWER_STATE_ON, 0, 1,
	IPMI_CLOSE_WAIT_MS, IPMI_CLOSE_WAIT_MS, NULL},
    {"bad cipher", IPMI_CMD_STATUS, 5, NULL, NULL, IPMI_PRIV_OPERATOR, 0, 0, 0,
	0, {0}, POWER_ERR_CREDENTIALS, POWER_STATE_UNKNOWN, 0, 0, 0, 0,
	"cipher suite 5"},
    {"long password", IPMI_CMD_STATUS, -1, "123456789012345678901", NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {0}, POWER_ERR_CREDENTIALS,
	POWER_STATE_UNKNOWN, 0, 0, 0, 0, "longer than 20"},
    {"long user", IPMI_CMD_STATUS, -1, NULL, "12345678901234567",
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0, {0}, POWER_ERR_CREDENTIALS,
	POWER_STATE_UNKNOWN, 0, 0, 0, 0, "longer than 16"},
    {"20-character password", IPMI_CMD_STATUS, -1, "12345678901234567890", NULL,
	IPMI_PRIV_OPERATOR, 0, 0, 0, 0,
	{.password = "12345678901234567890", .on = 1}, POWER_ERR_OK,
	POWER_STATE_ON, 0, 1, 50, 0, NULL},
};

static void
test_state_machine(void **state)
{
	const struct sm_case *c;
	struct ipmi_params p;
	struct fbmc fb;
	struct outcome o;
	size_t i;

	for (i = 0; i < nitems(sm_cases); i++) {
		c = &sm_cases[i];
		print_message("state machine: %s\n", c->name);
		params_default(&p);
		if (c->cipher != -1)
			p.cipher = c->cipher;
		p.privilege = c->priv;
		if (c->no_workaround)
			p.workarounds = 0;
		p.timeout_ms = c->timeout_ms;
		p.retransmit_ms = c->retransmit_ms;
		p.control_retransmit_ms = c->control_ms;
		fb_init(&fb, &c->bmc);
		if (c->password != NULL)
			p.password = c->password;
		else
			p.password = fb.o.password;
		if (c->user != NULL)
			p.user = c->user;
		drive(&p, c->cmd, &fb, &o);
		if (o.reply.error != c->error || o.reply.state != c->state)
			print_error("%s: got %s/%s (%s)\n", c->name,
			    power_error_text(o.reply.error),
			    power_state_name(o.reply.state), o.reply.detail);
		assert_int_equal(o.reply.error, c->error);
		assert_int_equal(o.reply.state, c->state);
		assert_int_equal(o.leaked, 0);
		assert_null(strchr(o.reply.detail, '\n'));
		/* libfreeipmi's texts are trimmed: "(text)", not "(text. )". */
		assert_null(strstr(o.reply.detail, " )"));
		assert_null(strstr(o.reply.detail, ".)"));
		if (*p.password != '\0')
			assert_null(strstr(o.reply.detail, p.password));
		if (c->detail != NULL &&
		    strstr(o.reply.detail, c->detail) == NULL)
			fail_msg("%s: detail \"%s\" lacks \"%s\"", c->name,
			    o.reply.detail, c->detail);
		if (c->runs != -1)
			assert_int_equal(fb.got[FB_CONTROL], c->runs);
		if (c->closes != -1)
			assert_int_equal(fb.got[FB_CLOSE], c->closes);
		if (c->max_ms != 0 && o.ms > c->max_ms)
			fail_msg("%s: took %llu ms, more than %llu", c->name,
			    (unsigned long long)o.ms,
			    (unsigned long long)c->max_ms);
		assert_true(o.ms >= c->min_ms);
		assert_int_equal(fb.bad, 0);
		/* A control command is what the BMC ran. */
		if (c->error == POWER_ERR_OK && c->cmd != IPMI_CMD_STATUS) {
			static const int codes[] = {
			    [IPMI_CMD_ON] = IPMI_CHASSIS_CONTROL_POWER_UP,
			    [IPMI_CMD_OFF] = IPMI_CHASSIS_CONTROL_POWER_DOWN,
			    [IPMI_CMD_CYCLE] = IPMI_CHASSIS_CONTROL_POWER_CYCLE,
			    [IPMI_CMD_RESET] = IPMI_CHASSIS_CONTROL_HARD_RESET,
			    [IPMI_CMD_SOFT] =
				IPMI_CHASSIS_CONTROL_INITIATE_SOFT_SHUTDOWN,
			};
			assert_int_equal(fb.last_control, codes[c->cmd]);
		}
		if (c->error == POWER_ERR_OK && c->cmd == IPMI_CMD_STATUS)
			assert_int_equal(fb.got[FB_CONTROL], 0);
	}
}

/*
 * Retransmissions of a session packet: with no answer, the first request
 * goes at 0 and again after 1 s, 2 s, 3 s, 4 s, then every 2 s (backoff
 * every 4 copies), then every 3 s: 11 copies in 20 s.
 */
static void
test_retransmit_schedule(void **state)
{
	struct ipmi_params p;
	struct fbmc fb;
	struct outcome o;
	struct fb_opts silent = {.silent = 1};

	params_default(&p);
	fb_init(&fb, &silent);
	drive(&p, IPMI_CMD_STATUS, &fb, &o);
	assert_int_equal(o.reply.error, POWER_ERR_CONNECT_TIMEOUT);
	assert_int_equal(o.ms, IPMI_DEFAULT_TIMEOUT_MS);
	/* 0 1 2 3 4 | 6 8 10 12 | 15 18 */
	assert_int_equal(o.sent, 11);
	assert_non_null(strstr(o.reply.detail, "sent 11 times"));
}

/* Random bytes and mangled answers in every state never end the session. */
static void
test_garbage_everywhere(void **state)
{
	struct ipmi_params p;
	struct ipmi_session *s;
	struct fbmc fb;
	struct fb_opts on = {.on = 1};
	struct power_reply r;
	uint8_t buf[1024], junk[256];
	size_t len;
	uint64_t now = 5;
	unsigned i, j, round;

	for (round = 0; round < 40; round++) {
		params_default(&p);
		p.cipher = round % 2 ? 17 : 3;
		fb_init(&fb, &on);
		p.password = fb.o.password;
		s = ipmi_session_new(&p, IPMI_CMD_STATUS, now);
		for (i = 0; i < 200 && !ipmi_session_done(s, NULL); i++) {
			while (
			    (len = ipmi_session_output(s, buf, sizeof buf)) > 0)
				fb_recv(&fb, buf, len, now);
			/* Junk first: random, then the answer mangled. */
			ipmi_get_random(junk, sizeof junk);
			ipmi_session_input(s, junk, 1 + junk[0] % 200, now);
			/*
			 * Mangled answers too, but not session setup ones:
			 * nothing protects those (as in the protocol), so a
			 * mangled RAKP 2 is a wrong password, rightly.
			 */
			if (fb.nq > 0 &&
			    strcmp(ipmi_session_waiting(s), "open-session") !=
				0 &&
			    strcmp(ipmi_session_waiting(s), "rakp2") != 0 &&
			    strcmp(ipmi_session_waiting(s), "rakp4") != 0) {
				memcpy(junk, fb.q[0].buf, fb.q[0].len);
				for (j = 0; j < 3; j++)
					junk[(round * 7 + i * 13 + j * 5) %
					    fb.q[0].len] ^= 1 << (j + 1);
				ipmi_session_input(s, junk, fb.q[0].len, now);
				ipmi_session_input(s, fb.q[0].buf,
				    fb.q[0].len / 2, now);
			}
			while (fb_pop(&fb, now, buf, &len))
				ipmi_session_input(s, buf, len, now);
		}
		assert_true(ipmi_session_done(s, &r));
		if (r.error != POWER_ERR_OK)
			fail_msg("round %u: %s (%s)", round,
			    power_error_text(r.error), r.detail);
		assert_int_equal(r.state, POWER_STATE_ON);
		ipmi_session_free(s);
	}
}

/* An answer repeated (a retransmitted request answered twice). */
static void
test_duplicate_answers(void **state)
{
	struct ipmi_params p;
	struct ipmi_session *s;
	struct fbmc fb;
	struct fb_opts on = {.on = 1};
	struct power_reply r;
	uint8_t buf[1024];
	size_t len;
	unsigned i;

	params_default(&p);
	fb_init(&fb, &on);
	s = ipmi_session_new(&p, IPMI_CMD_OFF, 0);
	for (i = 0; i < 50 && !ipmi_session_done(s, NULL); i++) {
		while ((len = ipmi_session_output(s, buf, sizeof buf)) > 0)
			fb_recv(&fb, buf, len, 0);
		while (fb_pop(&fb, 0, buf, &len)) {
			ipmi_session_input(s, buf, len, 0);
			ipmi_session_input(s, buf, len, 0);
		}
	}
	assert_true(ipmi_session_done(s, &r));
	assert_int_equal(r.error, POWER_ERR_OK);
	assert_int_equal(fb.got[FB_CONTROL], 1);
	ipmi_session_free(s);
}

/* --- the libevent shell, against the fake BMC on a loopback port ------ */

struct server {
	struct event_base *base;
	int fd;
	struct sockaddr_in peer;
	socklen_t peerlen;
	struct event *read_ev;
	struct event *timer_ev;
	struct fbmc fb;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
server_flush(struct server *sv)
{
	uint8_t buf[1024];
	size_t len;
	uint64_t now = mono_ms(), next;
	struct timeval tv;

	while (fb_pop(&sv->fb, now, buf, &len))
		sendto(sv->fd, buf, len, 0, (struct sockaddr *)&sv->peer,
		    sv->peerlen);
	if ((next = fb_next(&sv->fb)) != UINT64_MAX) {
		next = next > now ? next - now : 0;
		tv.tv_sec = next / 1000;
		tv.tv_usec = (next % 1000) * 1000;
		evtimer_add(sv->timer_ev, &tv);
	}
}

static void
server_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *sv = arg;
	uint8_t buf[1024];
	ssize_t n;

	sv->peerlen = sizeof sv->peer;
	while ((n = recvfrom(fd, buf, sizeof buf, 0,
		    (struct sockaddr *)&sv->peer, &sv->peerlen)) > 0)
		fb_recv(&sv->fb, buf, n, mono_ms());
	server_flush(sv);
}

static void
server_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	server_flush(arg);
}

static int
server_start(struct server *sv, struct event_base *base,
    const struct fb_opts *o)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	memset(sv, 0, sizeof *sv);
	sv->base = base;
	fb_init(&sv->fb, o);
	sv->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(sv->fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sv->fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&sin, &len), 0);
	sv->read_ev =
	    event_new(base, sv->fd, EV_READ | EV_PERSIST, server_read_cb, sv);
	sv->timer_ev = evtimer_new(base, server_timer_cb, sv);
	event_add(sv->read_ev, NULL);
	return (ntohs(sin.sin_port));
}

static void
server_stop(struct server *sv)
{
	event_free(sv->read_ev);
	event_free(sv->timer_ev);
	close(sv->fd);
}

struct done {
	int calls;
	struct power_reply reply;
	struct event_base *base;
	int stop_after;         /* break the loop after this many calls */
	struct ipmi_op *cancel; /* cancelled by the callback */
};

static void
done_cb(const struct power_reply *r, void *arg)
{
	struct done *d = arg;

	d->calls++;
	d->reply = *r;
	if (d->cancel != NULL) {
		ipmi_op_cancel(d->cancel);
		d->cancel = NULL;
	}
	if (d->calls >= d->stop_after)
		event_base_loopexit(d->base, NULL);
}

/* Run the loop for at most ms milliseconds. */
static void
run_loop(struct event_base *base, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_event_status_and_control(void **state)
{
	static const struct {
		enum ipmi_command cmd;
		int cipher;
		enum power_state st;
	} runs[] = {
	    {IPMI_CMD_STATUS, 3, POWER_STATE_ON},
	    {IPMI_CMD_STATUS, 17, POWER_STATE_ON},
	    {IPMI_CMD_STATUS, 0, POWER_STATE_ON},
	    {IPMI_CMD_CYCLE, 3, POWER_STATE_UNKNOWN},
	};
	struct event_base *base = event_base_new();
	struct fb_opts o = {.on = 1};
	struct server sv;
	struct ipmi_params p;
	struct done d;
	struct ipmi_op *op;
	size_t i;
	int port;

	for (i = 0; i < nitems(runs); i++) {
		port = server_start(&sv, base, &o);
		params_default(&p);
		p.port = port;
		p.cipher = runs[i].cipher;
		p.timeout_ms = 5000;
		memset(&d, 0, sizeof d);
		d.base = base;
		d.stop_after = 1;
		op = ipmi_op_start(base, &p, runs[i].cmd, done_cb, &d);
		assert_non_null(op);
		assert_int_equal(d.calls, 0);
		run_loop(base, 5000);
		assert_int_equal(d.calls, 1);
		assert_int_equal(d.reply.error, POWER_ERR_OK);
		assert_int_equal(d.reply.state, runs[i].st);
		assert_int_equal(sv.fb.got[FB_CLOSE], 1);
		if (runs[i].cmd == IPMI_CMD_CYCLE)
			assert_int_equal(sv.fb.last_control,
			    IPMI_CHASSIS_CONTROL_POWER_CYCLE);
		server_stop(&sv);
	}
	event_base_free(base);
}

/* Many operations at once, one BMC each. */
static void
test_event_parallel(void **state)
{
	enum { N = 40 };
	struct event_base *base = event_base_new();
	struct fb_opts o = {.on = 0};
	struct server *sv = xcalloc(N, sizeof *sv);
	struct ipmi_params p;
	struct done d;
	int i;

	memset(&d, 0, sizeof d);
	d.base = base;
	d.stop_after = N;
	for (i = 0; i < N; i++) {
		o.on = i % 2;
		params_default(&p);
		p.port = server_start(&sv[i], base, &o);
		p.timeout_ms = 8000;
		ipmi_op_start(base, &p, i % 3 ? IPMI_CMD_STATUS : IPMI_CMD_ON,
		    done_cb, &d);
	}
	run_loop(base, 10000);
	assert_int_equal(d.calls, N);
	for (i = 0; i < N; i++) {
		assert_int_equal(sv[i].fb.got[FB_CLOSE], 1);
		assert_int_equal(sv[i].fb.got[FB_CONTROL], i % 3 ? 0 : 1);
		server_stop(&sv[i]);
	}
	free(sv);
	event_base_free(base);
}

static void
never_cb(const struct power_reply *r, void *arg)
{
	fail_msg("callback after cancel: %s", r->detail);
}

/* Cancelled: no callback, ever, whatever state it was in. */
static void
test_event_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct fb_opts slow = {.control_ms = 300};
	struct fb_opts silent = {.silent = 1};
	struct server sv, sv2;
	struct ipmi_params p;
	struct ipmi_op *op;
	struct done d;

	/* Waiting for a silent BMC. */
	params_default(&p);
	p.port = server_start(&sv, base, &silent);
	p.retransmit_ms = 50;
	op = ipmi_op_start(base, &p, IPMI_CMD_STATUS, never_cb, NULL);
	run_loop(base, 180);
	assert_true(sv.fb.answers == 0);
	ipmi_op_cancel(op);
	run_loop(base, 200);
	server_stop(&sv);

	/* In the middle of a slow Chassis Control. */
	params_default(&p);
	p.port = server_start(&sv, base, &slow);
	op = ipmi_op_start(base, &p, IPMI_CMD_OFF, never_cb, NULL);
	run_loop(base, 150);
	assert_int_equal(sv.fb.got[FB_CONTROL], 1);
	ipmi_op_cancel(op);
	run_loop(base, 400);
	assert_int_equal(sv.fb.got[FB_CLOSE], 0);
	server_stop(&sv);

	/* Failed at start, the callback pending: cancel removes it. */
	params_default(&p);
	p.ip = "not-an-address";
	op = ipmi_op_start(base, &p, IPMI_CMD_STATUS, never_cb, NULL);
	ipmi_op_cancel(op);
	run_loop(base, 50);

	/* Cancel one from another's callback. */
	params_default(&p);
	p.port = server_start(&sv, base, &silent);
	memset(&d, 0, sizeof d);
	d.base = base;
	d.stop_after = 1;
	d.cancel = ipmi_op_start(base, &p, IPMI_CMD_STATUS, never_cb, NULL);
	params_default(&p);
	p.port = server_start(&sv2, base, &(struct fb_opts){.on = 1});
	(void)ipmi_op_start(base, &p, IPMI_CMD_STATUS, done_cb, &d);
	run_loop(base, 3000);
	assert_int_equal(d.calls, 1);
	assert_null(d.cancel);
	run_loop(base, 1200);
	server_stop(&sv);
	server_stop(&sv2);

	/* NULL is ignored. */
	ipmi_op_cancel(NULL);
	event_base_free(base);
}

/* Failures known at start come later, from the loop. */
static void
test_event_deferred_failures(void **state)
{
	static const struct {
		const char *ip;
		int port;
		int cipher;
		enum power_error error;
		const char *detail;
	} cases[] = {
	    {"not-an-address", 623, 3, POWER_ERR_NETWORK,
		"not a numeric address"},
	    {"fit01", 623, 3, POWER_ERR_NETWORK, "not a numeric address"},
	    {"127.0.0.1", 70000, 3, POWER_ERR_NETWORK, "bad port"},
	    {"127.0.0.1", -1, 3, POWER_ERR_NETWORK, "bad port"},
	    {"127.0.0.1", 623, 4, POWER_ERR_CREDENTIALS, "cipher suite 4"},
	    {"127.0.0.1", 623, 99, POWER_ERR_CREDENTIALS, "cipher suite 99"},
	};
	struct event_base *base = event_base_new();
	struct ipmi_params p;
	struct done d;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		params_default(&p);
		p.ip = cases[i].ip;
		p.port = cases[i].port;
		p.cipher = cases[i].cipher;
		memset(&d, 0, sizeof d);
		d.base = base;
		d.stop_after = 1;
		(void)ipmi_op_start(base, &p, IPMI_CMD_STATUS, done_cb, &d);
		assert_int_equal(d.calls, 0);
		run_loop(base, 1000);
		assert_int_equal(d.calls, 1);
		assert_int_equal(d.reply.error, cases[i].error);
		assert_non_null(strstr(d.reply.detail, cases[i].detail));
	}
	event_base_free(base);
}

/* Nothing listens: ICMP port unreachable, reported once the time is up. */
static void
test_event_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct ipmi_params p;
	struct done d;
	uint64_t t0;
	int fd;

	/* A port that was free a moment ago. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);

	params_default(&p);
	p.port = ntohs(sin.sin_port);
	p.timeout_ms = 600;
	p.retransmit_ms = 100;
	memset(&d, 0, sizeof d);
	d.base = base;
	d.stop_after = 1;
	t0 = mono_ms();
	(void)ipmi_op_start(base, &p, IPMI_CMD_STATUS, done_cb, &d);
	run_loop(base, 3000);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.reply.error, POWER_ERR_CONNECT_REFUSED);
	assert_true(mono_ms() - t0 >= 600);
	assert_true(mono_ms() - t0 < 1500);
	event_base_free(base);
}

static void
test_command_names(void **state)
{
	assert_string_equal(ipmi_command_name(IPMI_CMD_STATUS), "status");
	assert_string_equal(ipmi_command_name(IPMI_CMD_ON), "on");
	assert_string_equal(ipmi_command_name(IPMI_CMD_OFF), "off");
	assert_string_equal(ipmi_command_name(IPMI_CMD_CYCLE), "cycle");
	assert_string_equal(ipmi_command_name(IPMI_CMD_RESET), "reset");
	assert_string_equal(ipmi_command_name(IPMI_CMD_SOFT), "soft");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hashes),
	    cmocka_unit_test(test_command_names),
	    cmocka_unit_test(test_state_machine),
	    cmocka_unit_test(test_retransmit_schedule),
	    cmocka_unit_test(test_garbage_everywhere),
	    cmocka_unit_test(test_duplicate_answers),
	    cmocka_unit_test(test_event_status_and_control),
	    cmocka_unit_test(test_event_parallel),
	    cmocka_unit_test(test_event_cancel),
	    cmocka_unit_test(test_event_deferred_failures),
	    cmocka_unit_test(test_event_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
