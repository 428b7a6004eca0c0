-- A login for Grafana's PostgreSQL data source: it may read the service's tables and change
-- nothing. Run it as the role that owns the schema (the service's database user) before the
-- service first starts: Flyway creates the tables later, as that role, and the default privileges
-- below make each of them readable. docker-compose.yml's postgres runs it once, when its volume is
-- new (deploy/postgres/initdb); psql sets :password. DashboardQueriesTest runs every SQL panel as
-- this login.
create role grafana_reader login password :'password';
grant usage on schema public to grafana_reader;
alter default privileges in schema public grant select on tables to grafana_reader;
