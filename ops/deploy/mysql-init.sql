-- One database per service and one application user that owns them
-- (run once by the mysql image on an empty data directory).
CREATE DATABASE IF NOT EXISTS orders_db;
CREATE DATABASE IF NOT EXISTS payments_db;
CREATE DATABASE IF NOT EXISTS inventory_db;
CREATE DATABASE IF NOT EXISTS notifications_db;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app-secret';
GRANT ALL PRIVILEGES ON orders_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON payments_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON inventory_db.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON notifications_db.* TO 'app'@'%';
