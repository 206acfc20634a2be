/*
 * Every configuration key rhubarb knows, with its type and compiled-in
 * default, so that a missing key can never crash a command. rhubarbe's
 * sections and keys are all here with the same meaning (a site copies its
 * rhubarbe.conf over); rhubarb's own additions follow each section.
 *
 * X(ID, section, key, type, default, min, max, help)
 * For CONFIG_CHOICE, min/max are unused and the choices are in help,
 * separated by '|' before the first space.
 */
#ifndef INVENTORY_CONFIG_KEYS_H
#define INVENTORY_CONFIG_KEYS_H

#define CONFIG_KEYS(X)                                                         \
	X(R2LABAPI_URL, "r2labapi", "url", CONFIG_STRING,                      \
	    "https://r2labapi.inria.fr:443/", 0, 0, "leases API")              \
	X(R2LABAPI_RESOURCE_NAME, "r2labapi", "resource_name", CONFIG_STRING,  \
	    "r2lab.inria.fr", 0, 0, "leased resource")                         \
	X(R2LABAPI_ADMIN_TOKEN, "r2labapi", "admin_token", CONFIG_SECRET, "",  \
	    0, 0, "accounts manager token")                                    \
	X(PLCAPI_URL, "plcapi", "url", CONFIG_STRING, "", 0, 0,                \
	    "rhubarbe 4 leases API")                                           \
	X(PLCAPI_LEASES_HOSTNAME, "plcapi", "leases_hostname", CONFIG_STRING,  \
	    "faraday.inria.fr", 0, 0, "rhubarbe 4")                            \
	X(PLCAPI_ADMIN_EMAIL, "plcapi", "admin_email", CONFIG_STRING, "", 0,   \
	    0, "rhubarbe 4")                                                   \
	X(PLCAPI_ADMIN_PASSWORD, "plcapi", "admin_password", CONFIG_SECRET,    \
	    "", 0, 0, "rhubarbe 4")                                            \
	X(TESTBED_REGULARNAME, "testbed", "regularname", CONFIG_STRING, "fit", \
	    0, 0, "prefix of node names")                                      \
	X(TESTBED_REBOOTNAME, "testbed", "rebootname", CONFIG_STRING,          \
	    "reboot", 0, 0, "prefix of CMC names")                             \
	X(TESTBED_INVENTORY_NODES_PATH, "testbed", "inventory_nodes_path",     \
	    CONFIG_PATH, "/etc/rhubarbe/inventory-nodes.json", 0, 0,           \
	    "node inventory (JSON)")                                           \
	X(TESTBED_INVENTORY_PHONES_PATH, "testbed", "inventory_phones_path",   \
	    CONFIG_PATH, "/etc/rhubarbe/inventory-phones.json", 0, 0,          \
	    "phone inventory")                                                 \
	X(TESTBED_INVENTORY_PDUS_PATH, "testbed", "inventory_pdus_path",       \
	    CONFIG_PATH, "/etc/rhubarbe/inventory-pdus.yaml", 0, 0,            \
	    "rhubarbe's PDU inventory")                                        \
	X(TESTBED_INVENTORY_RELAYS_PATH, "testbed", "inventory_relays_path",   \
	    CONFIG_PATH, "/etc/rhubarbe/inventory-relays.yaml", 0, 0,          \
	    "relay inventory")                                                 \
	X(TESTBED_RELAYS_DATABASE_FOLDER, "testbed", "relays_database_folder", \
	    CONFIG_PATH, "/etc/rhubarbe/relays", 0, 0, "relay database")       \
	X(TESTBED_ALL_SCOPE, "testbed", "all_scope", CONFIG_STRING, "", 0, 0,  \
	    "nodes for -a; empty means every inventory node")                  \
	X(TESTBED_GROUPS_PATH, "testbed", "groups_path", CONFIG_PATH,          \
	    "/etc/rhubarb/groups", 0, 0, "node groups file (name: nodes)")     \
	X(TESTBED_STATE_DIR, "testbed", "state_dir", CONFIG_PATH, "", 0, 0,    \
	    "state directory; empty means /var/lib/rhubarb for root, "         \
	    "$XDG_STATE_HOME/rhubarb otherwise")                               \
	X(NODES_IDLE_AFTER_RESET, "nodes", "idle_after_reset", CONFIG_INT,     \
	    "15", 0, 3600, "seconds")                                          \
	X(NODES_TIMEOUT_BEFORE_TELNET, "nodes", "timeout_before_telnet",       \
	    CONFIG_INT, "80", 0, 86400, "seconds (unused by rhubarbe)")        \
	X(NODES_CMC_DEFAULT_TIMEOUT, "nodes", "cmc_default_timeout",           \
	    CONFIG_INT, "3", 1, 86400, "seconds")                              \
	X(NODES_CMC_SAFE_TIMEOUT, "nodes", "cmc_safe_timeout", CONFIG_INT,     \
	    "60", 1, 86400, "seconds")                                         \
	X(NODES_LOAD_DEFAULT_TIMEOUT, "nodes", "load_default_timeout",         \
	    CONFIG_INT, "300", 1, 86400, "seconds")                            \
	X(NODES_SAVE_DEFAULT_TIMEOUT, "nodes", "save_default_timeout",         \
	    CONFIG_INT, "300", 1, 86400, "seconds")                            \
	X(NODES_WAIT_DEFAULT_TIMEOUT, "nodes", "wait_default_timeout",         \
	    CONFIG_INT, "60", 1, 86400, "seconds")                             \
	X(NODES_LOAD_NIGHTLY_TIMEOUT, "nodes", "load_nightly_timeout",         \
	    CONFIG_INT, "150", 1, 86400, "seconds")                            \
	X(NODES_WAIT_NIGHTLY_TIMEOUT, "nodes", "wait_nightly_timeout",         \
	    CONFIG_INT, "40", 1, 86400, "seconds")                             \
	X(NODES_SSH_NIGHTLY_TIMEOUT, "nodes", "ssh_nightly_timeout",           \
	    CONFIG_INT, "5", 1, 86400, "seconds")                              \
	X(NODES_FANOUT, "nodes", "fanout", CONFIG_INT, "256", 1, 100000,       \
	    "nodes worked on at once")                                         \
	X(NODES_BOOT_TIMEOUT, "nodes", "boot_timeout", CONFIG_INT, "240", 1,   \
	    86400,                                                             \
	    "seconds from a reset until the imaging system answers "           \
	    "telnet")                                                          \
	X(NODES_IMAGING_TIMEOUT, "nodes", "imaging_timeout", CONFIG_INT,       \
	    "1200", 1, 86400, "seconds for one node's frisbee or imagezip")    \
	X(NODES_FINAL_RESET_TIMEOUT, "nodes", "final_reset_timeout",           \
	    CONFIG_INT, "60", 1, 86400,                                        \
	    "seconds for the reset that ends a load or a save")                \
	X(NODES_RESET_ON_ABORT, "nodes", "reset_on_abort", CONFIG_CHOICE,      \
	    "yes", 0, 0,                                                       \
	    "yes|no reset nodes left in the imaging system by a timeout or "   \
	    "an interrupt, so they boot from disk")                            \
	X(POWER_FANOUT, "power", "fanout", CONFIG_INT, "64", 1, 100000,        \
	    "controller operations in flight at once")                         \
	X(POWER_VERIFY_TRIES, "power", "verify_tries", CONFIG_INT, "3", 1,     \
	    100, "read-backs of the state before an action fails")             \
	X(POWER_VERIFY_INTERVAL, "power", "verify_interval", CONFIG_DOUBLE,    \
	    "1", 0, 3600, "seconds between two read-backs")                    \
	X(POWER_RESET_VERIFY_DELAY, "power", "reset_verify_delay",             \
	    CONFIG_DOUBLE, "1", 0, 3600,                                       \
	    "seconds from a reset to its read-back")                           \
	X(POWER_CMC_CONNECT_TIMEOUT, "power", "cmc_connect_timeout",           \
	    CONFIG_DOUBLE, "2", 0, 3600, "seconds, > 0")                       \
	X(POWER_CMC_MIN_INTERVAL, "power", "cmc_min_interval", CONFIG_DOUBLE,  \
	    "0", 0, 3600, "seconds between two requests to one CMC")           \
	X(POWER_CMC_SETTLE, "power", "cmc_settle", CONFIG_DOUBLE, "1", 0,      \
	    3600, "seconds off during a cycle")                                \
	X(POWER_IPMI_TIMEOUT, "power", "ipmi_timeout", CONFIG_DOUBLE, "10", 0, \
	    3600, "seconds, > 0, for one operation on a BMC")                  \
	X(POWER_IPMI_RETRANSMIT, "power", "ipmi_retransmit", CONFIG_DOUBLE,    \
	    "0.5", 0, 3600, "seconds, > 0")                                    \
	X(POWER_IPMI_CONTROL_RETRANSMIT, "power", "ipmi_control_retransmit",   \
	    CONFIG_DOUBLE, "5", 0, 3600, "seconds, > 0")                       \
	X(POWER_IPMI_WORKAROUNDS, "power", "ipmi_workarounds", CONFIG_CHOICE,  \
	    "none", 0, 0, "none|opensesspriv BMC workarounds")                 \
	X(POWER_IPMI_MIN_INTERVAL, "power", "ipmi_min_interval",               \
	    CONFIG_DOUBLE, "0", 0, 3600,                                       \
	    "seconds between two operations on one BMC")                       \
	X(POWER_IPMI_SETTLE, "power", "ipmi_settle", CONFIG_DOUBLE, "2", 0,    \
	    3600, "seconds off during a cycle")                                \
	X(POWER_PDU_TIMEOUT, "power", "pdu_timeout", CONFIG_DOUBLE, "10", 0,   \
	    3600, "seconds, > 0, for one operation on a PDU")                  \
	X(POWER_PDU_REQUEST_TIMEOUT, "power", "pdu_request_timeout",           \
	    CONFIG_DOUBLE, "1", 0, 3600, "seconds, > 0")                       \
	X(POWER_PDU_RETRIES, "power", "pdu_retries", CONFIG_INT, "2", 0, 100,  \
	    "SNMP retries per request")                                        \
	X(POWER_PDU_POLL, "power", "pdu_poll", CONFIG_DOUBLE, "0.5", 0, 3600,  \
	    "seconds, > 0")                                                    \
	X(POWER_PDU_MIN_INTERVAL, "power", "pdu_min_interval", CONFIG_DOUBLE,  \
	    "0", 0, 3600, "seconds between two operations on one PDU")         \
	X(POWER_PDU_SETTLE, "power", "pdu_settle", CONFIG_DOUBLE, "5", 0,      \
	    3600, "seconds off during a cycle")                                \
	X(PXELINUX_CONFIG_DIR, "pxelinux", "config_dir", CONFIG_PATH,          \
	    "/tftpboot/pxelinux.cfg/", 0, 0, "nextboot links live here")       \
	X(PXELINUX_FRISBEE_IMAGE, "pxelinux", "frisbee_image", CONFIG_STRING,  \
	    "pxefrisbee", 0, 0, "nextboot link target")                        \
	X(FRISBEE_IMAGES_DIR, "frisbee", "images_dir", CONFIG_PATH,            \
	    "/var/lib/rhubarbe-images", 0, 0, "public images")                 \
	X(FRISBEE_DEFAULT_IMAGE, "frisbee", "default_image", CONFIG_STRING,    \
	    "default.ndz", 0, 0, "image loaded without -i")                    \
	X(FRISBEE_SERVER, "frisbee", "server", CONFIG_STRING, "frisbeed", 0,   \
	    0, "frisbeed binary")                                              \
	X(FRISBEE_SERVER_OPTIONS, "frisbee", "server_options", CONFIG_STRING,  \
	    "-K 3", 0, 0, "extra frisbeed options")                            \
	X(FRISBEE_CLIENT, "frisbee", "client", CONFIG_STRING, "frisbee", 0, 0, \
	    "frisbee client on the node")                                      \
	X(FRISBEE_IMAGEZIP, "frisbee", "imagezip", CONFIG_STRING, "imagezip",  \
	    0, 0, "imagezip on the node")                                      \
	X(FRISBEE_NETCAT, "frisbee", "netcat", CONFIG_STRING, "nc", 0, 0,      \
	    "netcat on the node")                                              \
	X(FRISBEE_NETCAT_STYLE, "frisbee", "netcat_style", CONFIG_CHOICE,      \
	    "fedora", 0, 0, "fedora|ubuntu netcat flavour")                    \
	X(FRISBEE_HARD_DRIVE, "frisbee", "hard_drive", CONFIG_STRING,          \
	    "/dev/sda", 0, 0, "disk on the node")                              \
	X(FRISBEE_ROOT_PARTITION, "frisbee", "root_partition", CONFIG_STRING,  \
	    "/dev/sda1", 0, 0, "'none' disables the stamp")                    \
	X(FRISBEE_MOUNT_POINT, "frisbee", "mount_point", CONFIG_STRING,        \
	    "/mnt", 0, 0, "where the node mounts its root partition")          \
	X(NETWORKING_TELNET_PORT, "networking", "telnet_port", CONFIG_INT,     \
	    "23", 1, 65535, "default telnet port")                             \
	X(NETWORKING_TELNET_BACKOFF, "networking", "telnet_backoff",           \
	    CONFIG_DOUBLE, "3", 0, 3600, "seconds")                            \
	X(NETWORKING_SSH_BACKOFF, "networking", "ssh_backoff", CONFIG_DOUBLE,  \
	    "3", 0, 3600, "seconds")                                           \
	X(NETWORKING_SSH_TIMEOUT, "networking", "ssh_timeout", CONFIG_DOUBLE,  \
	    "2", 0, 3600, "seconds")                                           \
	X(NETWORKING_PING_TIMEOUT, "networking", "ping_timeout",               \
	    CONFIG_DOUBLE, "0.5", 0, 3600, "seconds")                          \
	X(NETWORKING_TELNET_TIMEOUT, "networking", "telnet_timeout",           \
	    CONFIG_DOUBLE, "0.5", 0, 3600, "seconds")                          \
	X(NETWORKING_TELNET_CONNECT_MINWAIT, "networking",                     \
	    "telnet_connect_minwait", CONFIG_DOUBLE, "0.2", 0, 3600,           \
	    "seconds")                                                         \
	X(NETWORKING_TELNET_CONNECT_MAXWAIT, "networking",                     \
	    "telnet_connect_maxwait", CONFIG_DOUBLE, "1", 0, 3600, "seconds")  \
	X(NETWORKING_PATTERN_MULTICAST, "networking", "pattern_multicast",     \
	    CONFIG_MCAST_PATTERN, "234.5.6.*", 0, 0,                           \
	    "multicast group; * is the try number")                            \
	X(NETWORKING_PATTERN_PORT, "networking", "pattern_port",               \
	    CONFIG_PORT_PATTERN, "10000 + *", 0, 0,                            \
	    "frisbeed port; * is the try number")                              \
	X(NETWORKING_PATTERN_SIZE, "networking", "pattern_size", CONFIG_INT,   \
	    "20", 1, 254, "tries for a free group and port")                   \
	X(NETWORKING_BANDWIDTH, "networking", "bandwidth", CONFIG_INT, "500",  \
	    1, 100000, "frisbee rate in Mibps")                                \
	X(NETWORKING_LOCAL_CONTROL_IP, "networking", "local_control_ip",       \
	    CONFIG_STRING, "", 0, 0, "our address on the control network")     \
	X(NETWORKING_SSH_USER, "networking", "ssh_user", CONFIG_STRING,        \
	    "root", 0, 0, "login of rwait's ssh probes")                       \
	X(NETWORKING_SSH_KEY, "networking", "ssh_key", CONFIG_PATH, "", 0, 0,  \
	    "private key; empty means ~/.ssh/id_ed25519, then ~/.ssh/id_rsa")  \
	X(NETWORKING_SSH_HOST_KEY_POLICY, "networking", "ssh_host_key_policy", \
	    CONFIG_CHOICE, "accept-new", 0, 0,                                 \
	    "accept-new|no-check|strict host keys against ssh_known_hosts")    \
	X(NETWORKING_SSH_KNOWN_HOSTS, "networking", "ssh_known_hosts",         \
	    CONFIG_PATH, "", 0, 0, "empty means ~/.ssh/known_hosts")           \
	X(NETWORKING_SSH_MAX_HANDSHAKES, "networking", "ssh_max_handshakes",   \
	    CONFIG_INT, "32", 1, 10000,                                        \
	    "ssh handshakes in flight (each costs CPU on both sides)")         \
	X(MONITOR_CYCLE_NODES, "monitor", "cycle_nodes", CONFIG_DOUBLE, "2",   \
	    0, 86400, "seconds")                                               \
	X(MONITOR_CYCLE_PHONES, "monitor", "cycle_phones", CONFIG_DOUBLE, "2", \
	    0, 86400, "seconds")                                               \
	X(MONITOR_CYCLE_PDUS, "monitor", "cycle_pdus", CONFIG_DOUBLE, "1", 0,  \
	    86400, "seconds")                                                  \
	X(MONITOR_CYCLE_LEASES, "monitor", "cycle_leases", CONFIG_DOUBLE,      \
	    "60", 0, 86400, "seconds")                                         \
	X(MONITOR_STEP_LEASES, "monitor", "step_leases", CONFIG_DOUBLE,        \
	    "0.05", 0, 86400, "seconds")                                       \
	X(MONITOR_LOG_PERIOD, "monitor", "log_period", CONFIG_DOUBLE, "4", 0,  \
	    86400, "seconds")                                                  \
	X(SIDECAR_URL, "sidecar", "url", CONFIG_STRING,                        \
	    "wss://r2lab-sidecar.inria.fr:443/", 0, 0, "status sidecar")       \
	X(ACCOUNTS_ACCESS_POLICY, "accounts", "access_policy", CONFIG_CHOICE,  \
	    "leased", 0, 0, "open|leased|closed")                              \
	X(ACCOUNTS_CYCLE, "accounts", "cycle", CONFIG_DOUBLE, "60", 0, 86400,  \
	    "seconds")                                                         \
	X(ACCOUNTS_PRIVILEGED, "accounts", "privileged", CONFIG_STRING,        \
	    "root,guest", 0, 0, "logins never checked for a lease")            \
	X(ACCOUNTS_GATE, "accounts", "gate", CONFIG_STRING, "", 0, 0,          \
	    "reservation gate: a command run with the login and the nodes; "   \
	    "exit 0 grants")                                                   \
	X(ACCOUNTS_GATE_TIMEOUT, "accounts", "gate_timeout", CONFIG_DOUBLE,    \
	    "10", 0, 3600, "seconds, > 0, the gate may take")                  \
	X(LOGGING_LEVEL, "logging", "level", CONFIG_CHOICE, "info", 0, 0,      \
	    "error|warn|info|debug log file verbosity")

#endif
