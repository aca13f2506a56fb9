"""The command line: parse arguments, call the core, render the result. No SQL here."""
