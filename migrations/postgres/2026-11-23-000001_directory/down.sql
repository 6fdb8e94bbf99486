DROP TABLE expertise;
DROP TABLE topics;
DROP TABLE organisations;
