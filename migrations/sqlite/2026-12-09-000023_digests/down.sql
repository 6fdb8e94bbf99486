DROP INDEX visits_answered_idx;
DROP INDEX lessons_submitted_idx;
DROP TABLE digest_leaders;
DROP TABLE digests;
