complete -c dynotop -l node -d 'A node\'s stats address; every node is found from its /cluster_describe' -r
complete -c dynotop -l config -d 'Config files, one per node; each node is polled on its stats_listen' -r -F
complete -c dynotop -l nodes -d 'Stats addresses to poll, comma separated' -r
complete -c dynotop -l stats-port-map -d 'Stats ports of described nodes: PEERPORT=STATSPORT or HOST:PEERPORT=STATSPORT, comma separated' -r
complete -c dynotop -l interval -d 'Seconds between polls' -r
complete -c dynotop -l timeout -d 'Per-node request timeout in milliseconds' -r
complete -c dynotop -l width -d 'Width of the --once frame' -r
complete -c dynotop -l height -d 'Height of the --once frame' -r
complete -c dynotop -l view -d 'The view to start in (with --once, the view printed)' -r -f -a "nodes\t'One row per node, grouped by DC and rack'
racks\t'Racks, aggregated'
dcs\t'DCs, aggregated'
detail\t'The selected node\'s detail, with its datastore\'s own INFO'
ring\t'Token ranges per rack'"
complete -c dynotop -l select -d 'The selected node, shown by --view detail: a row of the nodes table (1 is the first) or a node\'s stats address or name' -r
complete -c dynotop -l admin-token -d 'The nodes\' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on every poll [env: DYNOMITE_ADMIN_TOKEN]' -r
complete -c dynotop -l admin-token-file -d 'Read the admin token from FILE (its contents, trimmed)' -r -F
complete -c dynotop -l once -d 'Poll twice, --interval apart, print one frame as plain text and exit'
complete -c dynotop -l no-color -d 'No colours (also when NO_COLOR is set)'
complete -c dynotop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dynotop -s V -l version -d 'Print version'
