-- One database per service (each service owns its data and runs its own Alembic
-- migrations on start-up). The postgres image runs this file once, when the data
-- volume is empty, as POSTGRES_USER (lobu) against POSTGRES_DB (lobu): a database
-- added here later needs `docker compose down -v` (or a manual CREATE DATABASE).
CREATE DATABASE directory OWNER lobu;
CREATE DATABASE notifications OWNER lobu;
CREATE DATABASE surveys OWNER lobu;
CREATE DATABASE events OWNER lobu;
