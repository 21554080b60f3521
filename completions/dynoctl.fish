# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dynoctl_global_optspecs
    string join \n h/help V/version
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

complete -c dynoctl -n "__fish_dynoctl_needs_command" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -s V -l version -d 'Print version'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "conf-test" -d 'Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not'
complete -c dynoctl -n "__fish_dynoctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand conf-test" -s h -l help -d 'Print help'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test help" -f -a "conf-test" -d 'Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not'
complete -c dynoctl -n "__fish_dynoctl_using_subcommand help; and not __fish_seen_subcommand_from conf-test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
