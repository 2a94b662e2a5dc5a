-- `listserv status` shows when a post last arrived for each list.
--
-- From now on the pipeline records it in list_marks (name 'post', at = the
-- post's arrival time) in the transaction of every post, whatever its fate
-- (listserv.pipeline._job), so status reads one row per list. This fills the
-- mark once from what earlier versions kept: the newest archived post that came
-- through the server (imported ones have no inbound_id) and the newest held
-- post. No table or column is added: list_marks.name (0005_digests_bounces.sql)
-- gains the value 'post'.
INSERT INTO list_marks (list_id, name, at)
SELECT list_id, 'post', max(at) FROM (
    SELECT list_id, max(received_at) AS at FROM messages WHERE inbound_id IS NOT NULL GROUP BY list_id
    UNION ALL
    SELECT list_id, max(received_at) AS at FROM held WHERE role IN ('post', 'confidential') GROUP BY list_id
) GROUP BY list_id
ON CONFLICT (list_id, name) DO UPDATE SET at = max(at, excluded.at);
