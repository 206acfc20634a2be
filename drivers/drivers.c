/*
 * What the protocol adapters are built on: the versions of the protocol
 * libraries linked in, for "rhubarb version -v" and bug reports. The
 * drivers themselves (telnet, ssh, cmc, ipmi, pdu, frisbee) live beside
 * this file, one per protocol.
 */
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "drivers/drivers.h"

void
drivers_versions(void (*cb)(const char *, const char *, void *), void *arg)
{
	cb("libevent", event_get_version(), arg);
	cb("libssh", ssh_version(0), arg);
	cb("net-snmp", netsnmp_get_version(), arg);
	/* libtelnet and libfreeipmi export no run-time version. */
}
