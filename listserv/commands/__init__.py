"""Email commands to NAME-request@DOMAIN and confirmations to NAME-confirm+TOKEN@DOMAIN, one module per command.

parser reads the commands out of a message; handle runs them inside the
pipeline's transaction and queues one reply; table names the module of each
command word; mail builds the reply and the notices; context is what every
command receives and returns.
"""
