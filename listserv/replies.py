"""Every SMTP/LMTP reply listserv sends, named by its code (RFC 5321, RFC 3463 enhanced codes).

A test checks that each constant's name matches the code in its text, so a
reply can be found by grepping for its number. 3xx replies carry no enhanced
code (RFC 3463 has classes 2, 4 and 5 only).
"""

S250_OK = "250 2.0.0 OK: queued"
S250_RCPT_OK = "250 2.1.5 OK"
S250_SENDER_OK = "250 2.1.0 OK"
S354_START_DATA = "354 End data with <CR><LF>.<CR><LF>"
S421_TOO_MANY_SESSIONS = "421 4.7.0 Too many sessions open, try again later"
S421_IDLE_TIMEOUT = "421 4.4.2 Idle too long, closing the session"
S451_TRY_AGAIN = "451 4.3.0 Temporary failure storing the message, try again later"
S452_TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients in one transaction"
S501_DATA_SYNTAX = "501 5.5.4 Syntax: DATA takes no argument"
S501_BAD_ADDRESS = "501 5.1.3 Bad recipient address syntax"
S501_BAD_SENDER = "501 5.1.7 Bad sender address syntax"
S503_NEED_RCPT = "503 5.5.1 Error: need RCPT command"
S550_NO_SUCH_LIST = "550 5.1.1 No such list or list address here"
S552_TOO_BIG = "552 5.3.4 Message too big for this list server"
S554_NO_VALID_RECIPIENTS = "554 5.5.1 No valid recipients"

# Not a reply of ours: how aiosmtpd's own too-big reply opens ("552 Error: Too much mail data"), so intake
# can answer with S552_TOO_BIG instead. tests/intake/test_aiosmtpd_internals.py checks aiosmtpd still says it.
AIOSMTPD_TOO_BIG_PREFIX = "552 Error"
