complete -c dynomited -s v -l verbosity -d 'Logging level, 0..11 (default: 5)' -r
complete -c dynomited -s o -l output -d 'Log file (default: stderr); SIGHUP reopens it' -r -F
complete -c dynomited -s c -l conf-file -d 'Configuration file' -r -F
complete -c dynomited -s p -l pid-file -d 'Pid file, written at start and removed at clean exit (default: off)' -r -F
complete -c dynomited -s m -l mbuf-size -d 'Size of mbuf chunks in bytes, 512..512000, a multiple of 16 (deprecated: use mbuf_size)' -r
complete -c dynomited -s M -l max-msgs -d 'Max message objects, 100000..1000000 (deprecated: use max_msgs)' -r
complete -c dynomited -s x -l admin-operation -d 'Admin mode N > 0: no peer connections; with 1, DEL only for keys this node owns' -r
complete -c dynomited -s h -l help -d 'This help'
complete -c dynomited -s V -l version -d 'Show the version and exit'
complete -c dynomited -s t -l test-conf -d 'Test the configuration for syntax errors and exit (0 valid, 1 invalid)'
complete -c dynomited -s d -l daemonize -d 'Run as a daemon'
complete -c dynomited -s D -l describe-stats -d 'Print the stats description and exit'
