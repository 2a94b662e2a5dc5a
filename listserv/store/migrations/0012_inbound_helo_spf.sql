-- The HELO/EHLO name of the session that delivered an inbound message: SPF checks it (RFC 7208 2.3) when
-- MAIL FROM is null (bounces, DSNs), for clients that connect directly (listserv.auth.spf).
--
-- Source of truth: what the client said; kept with the row's other envelope metadata.

ALTER TABLE inbound ADD COLUMN helo TEXT NOT NULL DEFAULT '';
    -- the name the client gave in HELO/EHLO, as given; '' for rows stored before this migration
