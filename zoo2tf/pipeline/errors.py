"""Errors that stop a whole run (as opposed to one model's failure, which is data)."""


class RunCannotProceed(Exception):
    """The run itself cannot go on: catalog unreachable, database unwritable, ..."""
