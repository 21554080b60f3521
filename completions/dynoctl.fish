# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dynoctl_global_optspecs
    string join \n json admin-token= admin-token-file= h/help V/version
end

function __fish_dynoctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dynoctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dynoctl_using_subcommand
    set -l cmd (__fish_dynoctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dynoctl -n "__fish_dynoctl_needs_command" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_needs_command" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_needs_command" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -s V -l version -d 'Print version'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "conf-test" -d 'Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "tokens" -d 'The token of every node of a topology (racks rack1..rackN, slots 0..K-1), ready dyn_seeds lines (--seeds --hosts), or a check of config files\' tokens (--check)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "gen-config" -d 'Write one Dynomite YAML file per node (DIR/<dc>-<rack>-<slot>.yml): listen, dyn_listen and stats_listen on the node\'s host, the datastore on 127.0.0.1, the token from the formula, every other node as a seed'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "seeds" -d 'List the cluster\'s nodes (host, port, rack, dc, token) from a config file (the node and its dyn_seeds), a florida endpoint, the TXT records of a DNS name (dns_provider), or a running node\'s /cluster_describe'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "serve-seeds" -d 'Serve a seeds file as a florida endpoint for nodes with dyn_seed_provider: florida_provider: GET /REST/v1/admin/get_seeds or /api/v1/admin/get_seeds (any case) answers 200 text/plain with the file\'s seeds joined by \'|\''
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "status" -d 'One row per node of the cluster: dc, rack, token, stats address, peer address, state, up/down as the asked node sees it, client connections, ops/s, p99 latency, errors, datastore, hints pending. Exit 0 if every node answered, is NORMAL and has its datastore; 1 otherwise; 2 if --node does not answer'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "state" -d 'Get or set a node\'s state (normal, standby, writes_only, resuming); prints the state the node reports afterwards'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "consistency" -d 'Get or set a node\'s default read and write consistency (for client connections accepted afterwards)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "peer" -d 'Mark a peer up or down, or reset its connections, as NODE sees it; prints the peer(s) as NODE sees them afterwards. PEER is a peer\'s host or IP as in /cluster_describe (every peer on that host), or `all` (reset every peer, whatever the action)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "loglevel" -d 'Raise or lower a node\'s log level by one, or set it (0..11: 5 notice, 6 info, 7 debug, 11 verbose)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "health" -d 'Check a node: its process answers (/ping), its datastore is connected (datastore_connected > 0 in /info) and its state is NORMAL. Exit 0 healthy, 1 a check failed, 2 the node does not answer'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "wait" -d 'Wait until a node reports a state (and with --healthy, passes every `health` check). A node that does not answer (restarting) is waited for. Exit 0 when reached, 1 on timeout (saying what was last seen)'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "cluster" -d 'A local cluster on 127.0.0.1 (one redis-server and one dynomited per node): start it, stop it, see it, restart one node'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "warmup" -d 'Warm up a node whose Redis is empty or stale from a same-token replica in another rack of its DC (SLAVEOF, sync, writes_only, SLAVEOF NO ONE, resuming, normal). Exit 0 done, 1 failed (the message names the state left and the commands to continue or roll back), 2 usage error, unreachable node or datastore, or a Memcached node'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "repair" -d 'Make the racks of a DC hold the same data (anti-entropy): compare every key of every token range on each rack\'s datastore and write the winner where they differ. Exit 0 when the racks are equal at the end, 1 when differences remain (--report-only, ties, keys evicted, changed meanwhile or failed), 2 on error'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand conf-test" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand conf-test" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand conf-test" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand conf-test" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l racks -d 'Racks per datacenter (named rack1..rackN)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l nodes-per-rack -d 'Nodes in each rack (slots 0..K-1)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l dcs -d 'Datacenter names, comma-separated, or a count N for dc1..dcN' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l offset -d 'Offset of the netflix scheme (dynomite-manager\'s region offset)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l scheme -d 'Token formula: netflix = ((2^32-1)/K*slot + offset) mod (2^32-1), the same in every rack and DC; even = (2^32-1)/K*(slot+1) (Dynomite\'s generate_yamls.py, no offset)' -r -f -a "netflix\t''
even\t''"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l hosts -d 'With --seeds: one host per node, in dc, rack, slot order: a file (one per line) or a comma-separated list' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l peer-port -d 'Peer (dyn_listen) port used in the seed lines' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l check -d 'Check the tokens of these config files instead' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l max-imbalance -d 'With --check: the largest acceptable largest-range / smallest-range ratio of a rack [default: 2.0]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l seeds -d 'Also print dyn_seeds lines host:PEER_PORT:rack:dc:token (needs --hosts)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand tokens" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l racks -d 'Racks per datacenter (named rack1..rackN)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l nodes-per-rack -d 'Nodes in each rack (slots 0..K-1)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l dcs -d 'Datacenter names, comma-separated, or a count N for dc1..dcN' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l offset -d 'Offset of the netflix scheme (dynomite-manager\'s region offset)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l scheme -d 'Token formula: netflix = ((2^32-1)/K*slot + offset) mod (2^32-1), the same in every rack and DC; even = (2^32-1)/K*(slot+1) (Dynomite\'s generate_yamls.py, no offset)' -r -f -a "netflix\t''
even\t''"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l hosts -d 'One host per node, in dc, rack, slot order: a file (one per line) or a comma-separated list' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l redis-port -d 'Datastore port (servers: 127.0.0.1:PORT:1)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l client-port -d 'Client port (listen)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l peer-port -d 'Peer port (dyn_listen and the seeds)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l stats-port -d 'Stats and admin port (stats_listen)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l data-store -d 'Datastore behind each node' -r -f -a "redis\t''
memcache\t''"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l read-consistency -d 'dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l write-consistency -d 'dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l out -d 'Directory for the files (created if missing)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l dry-run -d 'Print the files instead of writing them'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand gen-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l config -d 'A node\'s config file' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l florida -d 'A florida endpoint: a URL, or HOST:PORT for http://HOST:PORT/REST/v1/admin/get_seeds' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l dns -d 'A DNS name whose TXT records hold the seed list (as dns_provider reads it)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l dns-server -d 'With --dns: the DNS server to ask (default: the first nameserver of /etc/resolv.conf)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l node -d 'A running node\'s stats address; reads http://HOST:PORT/cluster_describe' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l format -d 'Output format' -r -f -a "table\t''
json\t''
florida\t'host:port:rack:dc:token|... as a florida endpoint serves it'"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand seeds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -l file -d 'The seeds file' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -l listen -d 'Address to listen on' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand serve-seeds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l node -d 'A node\'s stats address; every node is found from its /cluster_describe' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l config -d 'Config files, one per node (each node is asked on its stats_listen)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l nodes -d 'Stats addresses of the nodes, comma-separated' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l stats-port-map -d 'Stats ports of described nodes: PEERPORT=STATSPORT or HOST:PEERPORT=STATSPORT, comma-separated' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l interval -d 'Time between the two /info samples ops/s is computed from (0s: one sample, no ops/s)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l timeout -d 'Timeout of each request to a node' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -f -a "get" -d 'Print the node\'s state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -f -a "set" -d 'Set the node\'s state and print it as the node reports it afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and not __fish_seen_subcommand_from get set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from get" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from get" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from get" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from set" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from set" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from set" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print the node\'s state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set the node\'s state and print it as the node reports it afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -f -a "get" -d 'Print the node\'s read and write consistency'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -f -a "set" -d 'Set the read consistency, the write consistency or both; prints both afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and not __fish_seen_subcommand_from get set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from get" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from get" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from get" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -l read -d 'dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -l write -d 'dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print the node\'s read and write consistency'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set the read consistency, the write consistency or both; prints both afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand consistency; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand peer" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand peer" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand peer" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand peer" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand loglevel" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand loglevel" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand loglevel" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand loglevel" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand health" -l timeout -d 'Timeout of each request' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand health" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand health" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand health" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand health" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l state -d 'The state to wait for' -r -f -a "normal\t'Serve clients normally'
standby\t'Refuse client requests (drained)'
writes_only\t'Accept writes, refuse reads (warm-up)'
resuming\t'Accept writes and reads from the datastore while catching up'"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l timeout -d 'How long to wait: 500ms, 60s, 2m' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l interval -d 'Time between polls' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l healthy -d 'Also wait until the node is healthy (as `dynoctl health`)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -f -a "up" -d 'Start a local cluster on 127.0.0.1: one redis-server (no persistence) and one dynomited per node, configs from the token formula (as gen-config), each node listing the others as seeds. Returns once every node answers /info, has its datastore connected and a connection to every peer; prints the nodes and how to use them'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -f -a "down" -d 'Stop a cluster started by `cluster up`: SIGTERM to each recorded PID whose /proc/PID/cmdline still names dynomited or redis-server (a recycled PID is left alone), dynomited first; SIGKILL whatever still runs 10 s later; then remove cluster.json. Configs and logs stay'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -f -a "status" -d '`dynoctl status` over the nodes recorded in cluster.json'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -f -a "restart-node" -d 'Restart one node\'s dynomited: stop it by its recorded PID (SIGTERM, SIGKILL after 10 s), start it again with the same config and log file, record the new PID, and wait until it is ready (healthy and connected to its peers). Its redis-server keeps running. The restart command of examples/rolling-restart.sh for these clusters'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and not __fish_seen_subcommand_from up down status restart-node help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l racks -d 'Racks per datacenter (named rack1..rackN)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l nodes-per-rack -d 'Nodes in each rack (slots 0..K-1)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l dcs -d 'Datacenter names, comma-separated, or a count N for dc1..dcN' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l offset -d 'Offset of the netflix scheme (dynomite-manager\'s region offset)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l scheme -d 'Token formula: netflix = ((2^32-1)/K*slot + offset) mod (2^32-1), the same in every rack and DC; even = (2^32-1)/K*(slot+1) (Dynomite\'s generate_yamls.py, no offset)' -r -f -a "netflix\t''
even\t''"
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l dir -d 'Directory for the configs, logs and cluster.json (created if missing)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l base-port -d 'First port of the range; node i uses BASE+10*(i-1)+1..4' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l dynomited -d 'The dynomited executable' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l redis-server -d 'The redis-server executable' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l consistency -d 'Read and write consistency of every node: dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l timeout -d 'How long to wait for every node to be ready' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from down" -l dir -d 'The cluster\'s directory' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from down" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from down" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from down" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l dir -d 'The cluster\'s directory' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l interval -d 'Time between the two /info samples ops/s is computed from' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l timeout -d 'Timeout of each request to a node' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -l dir -d 'The cluster\'s directory' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -l timeout -d 'How long to wait for the restarted node to be ready' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from restart-node" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "up" -d 'Start a local cluster on 127.0.0.1: one redis-server (no persistence) and one dynomited per node, configs from the token formula (as gen-config), each node listing the others as seeds. Returns once every node answers /info, has its datastore connected and a connection to every peer; prints the nodes and how to use them'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "down" -d 'Stop a cluster started by `cluster up`: SIGTERM to each recorded PID whose /proc/PID/cmdline still names dynomited or redis-server (a recycled PID is left alone), dynomited first; SIGKILL whatever still runs 10 s later; then remove cluster.json. Configs and logs stay'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "status" -d '`dynoctl status` over the nodes recorded in cluster.json'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "restart-node" -d 'Restart one node\'s dynomited: stop it by its recorded PID (SIGTERM, SIGKILL after 10 s), start it again with the same config and log file, record the new PID, and wait until it is ready (healthy and connected to its peers). Its redis-server keeps running. The restart command of examples/rolling-restart.sh for these clusters'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l datastore -d 'The node\'s datastore (its redis-server), HOST:PORT' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l config -d 'The node\'s config file: its datastore (servers:), data_store, token and datastore_password' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l peer-datastore -d 'A replica\'s datastore, HOST:PORT (repeat or comma-separate for several: the one whose redis-server has been up longest is the source)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l peer-config -d 'Other nodes\' config files: those of the node\'s DC with its token in another rack are the candidates (their servers: datastore; their stats_listen for their uptime)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l max-lag-bytes -d 'In sync when the replica is at most this many bytes behind the source' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l timeout -d 'Give up the sync after this long: 90s, 20m' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l max-growing-polls -d 'Give up when the gap grows this many polls in a row (writes outrun the sync)' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l interval -d 'Time between polls of the replication offsets' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l resume-wait -d 'How long the node stays RESUMING (sending the writes it held) before NORMAL' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l force -d 'Warm up even from a source that holds no keys while the node\'s datastore holds some'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l dry-run -d 'Print the plan (source, steps, thresholds) and change nothing'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand warmup" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l dir -d 'A cluster started by `dynoctl cluster up`: the configs its cluster.json names' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l dc -d 'The DC whose racks are compared [default: the only DC of the configs]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l prefer -d 'Who wins where no read-repair timestamps decide: majority, or rack:NAME' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l recheck-after -d 'Time between the two looks at a differing key' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l rate -d 'Keys taken from the racks\' SCANs per second at most, summed over racks: 5000keys/s, 20k; unlimited (or 0) for no limit' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l batch -d 'Keys per SCAN and per script call on a datastore' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l state-file -d 'Where the walk records its finished token ranges' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l timeout -d 'Timeout of each datastore request' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every stats-port call [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l all-dcs -d 'Compare the racks of every DC, all with each other'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l report-only -d 'Compare and report what would be repaired; change nothing'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l ignore-hints -d 'Walk even while nodes hold hints (writes not yet delivered to a peer, which the walk would take for differences)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l resume -d 'Continue the walk recorded in --state-file after its last finished token range'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -l json -d 'Print JSON instead of a table (seeds: as --format json; not for conf-test or serve-seeds)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand repair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "conf-test" -d 'Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "tokens" -d 'The token of every node of a topology (racks rack1..rackN, slots 0..K-1), ready dyn_seeds lines (--seeds --hosts), or a check of config files\' tokens (--check)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "gen-config" -d 'Write one Dynomite YAML file per node (DIR/<dc>-<rack>-<slot>.yml): listen, dyn_listen and stats_listen on the node\'s host, the datastore on 127.0.0.1, the token from the formula, every other node as a seed'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "seeds" -d 'List the cluster\'s nodes (host, port, rack, dc, token) from a config file (the node and its dyn_seeds), a florida endpoint, the TXT records of a DNS name (dns_provider), or a running node\'s /cluster_describe'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "serve-seeds" -d 'Serve a seeds file as a florida endpoint for nodes with dyn_seed_provider: florida_provider: GET /REST/v1/admin/get_seeds or /api/v1/admin/get_seeds (any case) answers 200 text/plain with the file\'s seeds joined by \'|\''
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "status" -d 'One row per node of the cluster: dc, rack, token, stats address, peer address, state, up/down as the asked node sees it, client connections, ops/s, p99 latency, errors, datastore, hints pending. Exit 0 if every node answered, is NORMAL and has its datastore; 1 otherwise; 2 if --node does not answer'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "state" -d 'Get or set a node\'s state (normal, standby, writes_only, resuming); prints the state the node reports afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "consistency" -d 'Get or set a node\'s default read and write consistency (for client connections accepted afterwards)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "peer" -d 'Mark a peer up or down, or reset its connections, as NODE sees it; prints the peer(s) as NODE sees them afterwards. PEER is a peer\'s host or IP as in /cluster_describe (every peer on that host), or `all` (reset every peer, whatever the action)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "loglevel" -d 'Raise or lower a node\'s log level by one, or set it (0..11: 5 notice, 6 info, 7 debug, 11 verbose)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "health" -d 'Check a node: its process answers (/ping), its datastore is connected (datastore_connected > 0 in /info) and its state is NORMAL. Exit 0 healthy, 1 a check failed, 2 the node does not answer'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "wait" -d 'Wait until a node reports a state (and with --healthy, passes every `health` check). A node that does not answer (restarting) is waited for. Exit 0 when reached, 1 on timeout (saying what was last seen)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "cluster" -d 'A local cluster on 127.0.0.1 (one redis-server and one dynomited per node): start it, stop it, see it, restart one node'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "warmup" -d 'Warm up a node whose Redis is empty or stale from a same-token replica in another rack of its DC (SLAVEOF, sync, writes_only, SLAVEOF NO ONE, resuming, normal). Exit 0 done, 1 failed (the message names the state left and the commands to continue or roll back), 2 usage error, unreachable node or datastore, or a Memcached node'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "repair" -d 'Make the racks of a DC hold the same data (anti-entropy): compare every key of every token range on each rack\'s datastore and write the winner where they differ. Exit 0 when the racks are equal at the end, 1 when differences remain (--report-only, ties, keys evicted, changed meanwhile or failed), 2 on error'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test tokens gen-config seeds serve-seeds status state consistency peer loglevel health wait cluster warmup repair help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "get" -d 'Print the node\'s state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "set" -d 'Set the node\'s state and print it as the node reports it afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from consistency" -f -a "get" -d 'Print the node\'s read and write consistency'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from consistency" -f -a "set" -d 'Set the read consistency, the write consistency or both; prints both afterwards'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "up" -d 'Start a local cluster on 127.0.0.1: one redis-server (no persistence) and one dynomited per node, configs from the token formula (as gen-config), each node listing the others as seeds. Returns once every node answers /info, has its datastore connected and a connection to every peer; prints the nodes and how to use them'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "down" -d 'Stop a cluster started by `cluster up`: SIGTERM to each recorded PID whose /proc/PID/cmdline still names dynomited or redis-server (a recycled PID is left alone), dynomited first; SIGKILL whatever still runs 10 s later; then remove cluster.json. Configs and logs stay'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "status" -d '`dynoctl status` over the nodes recorded in cluster.json'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "restart-node" -d 'Restart one node\'s dynomited: stop it by its recorded PID (SIGTERM, SIGKILL after 10 s), start it again with the same config and log file, record the new PID, and wait until it is ready (healthy and connected to its peers). Its redis-server keeps running. The restart command of examples/rolling-restart.sh for these clusters'
