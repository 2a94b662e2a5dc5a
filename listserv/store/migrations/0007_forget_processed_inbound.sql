-- Destroyed means destroyed: the inbound queue keeps no raw message once it is processed.
--
-- From now on marking an inbound row processed empties its raw column
-- (listserv.store.inbound.mark_processed): only unprocessed rows are ever
-- redone, and a processed message lives on only where its list's policy put
-- it (archive, held row, outbound queue). This empties the rows processed
-- before, which kept every post's bytes forever. No column is added or
-- changed; inbound.raw (0001_core.sql) stays NOT NULL, X'' meaning "no longer kept".
UPDATE inbound SET raw = X'' WHERE processed_at IS NOT NULL AND raw <> X'';
