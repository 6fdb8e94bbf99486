DROP INDEX lessons_period_idx;
