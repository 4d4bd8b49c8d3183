#!/bin/sh
# Runs once, when the postgres container creates its cluster: the role identityd connects as owns its
# database and schema but is neither a superuser nor BYPASSRLS, so row-level security applies to it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE identityd LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD 'identityd';
CREATE DATABASE identityd OWNER identityd;
SQL
