"""One module per `zoo2tf` subcommand; see zoo2tf.cli.COMMANDS."""
