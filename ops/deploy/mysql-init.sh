#!/bin/sh
# One database per service and one application user that owns them, its
# password from the environment (APP_PASSWORD) rather than from this file.
# Run once by the mysql image on an empty data directory.
set -eu
mysql -uroot -p"$MYSQL_ROOT_PASSWORD" <<SQL
CREATE DATABASE IF NOT EXISTS orders_db;
CREATE DATABASE IF NOT EXISTS payments_db;
CREATE DATABASE IF NOT EXISTS inventory_db;
CREATE DATABASE IF NOT EXISTS notifications_db;
CREATE DATABASE IF NOT EXISTS identity_db;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${APP_PASSWORD}';
GRANT ALL PRIVILEGES ON orders_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON payments_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON inventory_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON notifications_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON identity_db.* TO 'app'@'%';
SQL
