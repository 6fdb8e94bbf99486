DROP INDEX lessons_search;
