"""The `nurture` command's exit codes, in one place (docs/cli.md lists them for scripts)."""

OK = 0
PROBLEMS_FOUND = 1  # the command ran and reports problems: config errors, a lead not found, a check that failed
BAD_INPUT = 2  # bad arguments or input, or no system to talk to (no local system, an unknown stack)
INTERRUPTED = 130  # Ctrl-C: what was done stays done, running it again is safe
AWS_SETUP = 253  # no usable AWS credentials, an unknown profile, no region (the AWS CLI's code for these)
UNEXPECTED = 255  # a fault of the command itself: one line, or the traceback with --debug


class Stop(Exception):
    """Ends the command with `code`; why was said already."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
