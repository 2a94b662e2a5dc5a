-- Inbound authentication (listserv.auth): what DKIM, SPF and DMARC said about a post's From: domain, kept
-- with the archived post (shown by `archive show`) and with the held one (shown by `held show`; an approved
-- post is then mitigated for DMARC as the pipeline would have done).
--
-- Source of truth: the result of the check made when the post arrived (DNS answers change; it is not redone).

ALTER TABLE messages ADD COLUMN auth TEXT NOT NULL DEFAULT '';
    -- listserv.auth.result.AuthResult as JSON; '' for posts archived before this migration, imported or unchecked
ALTER TABLE held ADD COLUMN auth TEXT NOT NULL DEFAULT '';
    -- listserv.auth.result.AuthResult as JSON; '' when not checked (held before this migration, or unchecked roles)
