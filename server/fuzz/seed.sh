#!/bin/sh
# Seeds the fuzz corpora: `packet` with a few well-formed client packets (the
# first byte selects the decoder, see fuzz_targets/packet.rs), `sql` with
# statements of every kind (below; see fuzz_targets/sql.rs).
# Usage: server/fuzz/seed.sh   (writes server/fuzz/corpus/{packet,sql}/, not committed)
# Then, from server/:
#   cargo +nightly fuzz run sql fuzz/corpus/sql -- -dict=fuzz/sql.dict -timeout=10 \
#     -rss_limit_mb=4096 -detect_leaks=0 -max_total_time=600
#   cargo +nightly fuzz run packet fuzz/corpus/packet -- -max_total_time=600
set -eu
out="$(cd "$(dirname "$0")" && pwd)/corpus/packet"
mkdir -p "$out"
# COM_QUERY
printf '\000\003SELECT 1' > "$out/query"
# COM_STMT_EXECUTE, 2 parameters (selector 2*2): stmt 1, no cursor, 1 iteration,
# null bitmap 0, types bound: LONGLONG, VAR_STRING; values 42 and "abc".
printf '\004\027\001\000\000\000\000\001\000\000\000\000\001\010\000\375\000\052\000\000\000\000\000\000\000\003abc' > "$out/execute"
# COM_STMT_SEND_LONG_DATA, COM_SET_OPTION, COM_PROCESS_KILL
printf '\000\030\001\000\000\000\000\000data' > "$out/long-data"
printf '\000\033\001\000' > "$out/set-option"
printf '\000\014\007\000\000\000' > "$out/kill"
# HandshakeResponse41: CLIENT_PROTOCOL_41|SECURE_CONNECTION|CONNECT_WITH_DB|PLUGIN_AUTH|CONNECT_ATTRS,
# max packet, charset 33, 23 filler bytes, user, 20-byte token, db, plugin, attributes.
{
  printf '\001'
  printf '\010\202\030\000' # capabilities 0x00188208 (little-endian)
  printf '\000\000\000\001\041'
  printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
  printf 'root\000'
  printf '\024abcdefghijklmnopqrst'
  printf 'test\000'
  printf 'mysql_native_password\000'
  printf '\012\004_pid\0041234'
} > "$out/handshake"
# Framing (selector 3): max_packet 255*16, a COM_QUERY then a COM_PING in two
# frames; a frame with a bad sequence id; a frame cut short.
printf '\003\377\011\000\000\000\003SELECT 1\001\000\000\000\016' > "$out/framing"
printf '\003\377\001\000\000\007\016' > "$out/framing-seq"
printf '\003\002\377\377\377\000\003SEL' > "$out/framing-short"
ls -l "$out"

# --- the `sql` target: one seed per line below, plus the SQL strings of the
# server's tests. Markers: <SEP> separates the pieces of one input (a NUL byte);
# a piece starting with <PREP> is prepared and executed, <INITDB> is COM_INIT_DB,
# <FIELDS> COM_FIELD_LIST, <CHUSER> COM_CHANGE_USER, <RAW> a raw command packet,
# <WIRE> raw bytes on the wire (see fuzz_targets/sql.rs).
sql="$(cd "$(dirname "$0")" && pwd)/corpus/sql"
mkdir -p "$sql"
n=0
seed() {
  n=$((n + 1))
  printf '%s' "$1" | sed 's/<SEP>/\x00/g; s/<PREP>/\x01/g; s/<INITDB>/\x02/g; s/<FIELDS>/\x03/g; s/<CHUSER>/\x04/g; s/<RAW>/\x05/g; s/<WIRE>/\x06/g' > "$sql/seed-$n"
}
while IFS= read -r line; do
  [ -n "$line" ] && seed "$line"
done <<'EOF'
SELECT 1
select 1, 'a', 2.5, NULL, -0, 1e308, 0x41, X'4142', b'101', _utf8mb4'x' COLLATE utf8mb4_bin
SELECT 18446744073709551616, -9223372036854775808, 99999999999999999999999999999999.99, 1e-400
SELECT @@version, @@global.max_connections, @@session.autocommit, @@version_comment LIMIT 1
SELECT DATABASE(), USER(), CURRENT_USER(), CONNECTION_ID(), LAST_INSERT_ID(), VERSION()
SELECT NOW(), CURDATE(), CURTIME(), UTC_TIMESTAMP(), UNIX_TIMESTAMP(), SLEEP(0)
SELECT IF(1 > 2, 'a', 'b'), IFNULL(NULL, 3), COALESCE(NULL, NULL), NULLIF(1, 1), CASE WHEN 1 THEN 'x' ELSE 'y' END
SELECT CONCAT('a', 1), LENGTH('abc'), UPPER('x'), SUBSTRING('hello', 2, 3), REPLACE('aaa', 'a', 'b'), HEX('A')
SELECT 1 + 2 * 3 DIV 2 MOD 2, 1 << 3, 7 & 3, 1 | 2, 1 ^ 3, ~0, -(-1), 1 <=> NULL, NOT 1, 1 XOR 0
SELECT 'a' LIKE 'a%' ESCAPE '!', 'b' REGEXP '^b', 1 BETWEEN 0 AND 2, 1 IN (1, 2), 2 NOT IN (SELECT 1)
/*!40101 SET NAMES utf8mb4 */
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!50503 SELECT 1 */ # comment
SELECT 1 -- comment
SELECT /* inline */ 1 /*! + 1 */ /*!99999 + 100 */
SELECT 'it''s', "dq""x", `col``name`, 'back\'slash\\', 'nul\0', 'tab\t', N'national'
SELECT 1; SELECT 2; SELECT 'three'
SELECT 1;;; ;SELECT 2;
SET @a = 1, @b := 'x', @c = NULL; SELECT @a, @b, @c, @undefined
SET SESSION autocommit = 0; BEGIN; SELECT 1; COMMIT; SET autocommit = 1
SET GLOBAL max_connections = 10; SELECT @@max_connections
SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'; SELECT "a", 'b\'
SET NAMES latin1 COLLATE latin1_swedish_ci
SET CHARACTER SET utf8mb4
SET @@session.wait_timeout = 28800, @@global.wait_timeout = DEFAULT
SET TRANSACTION ISOLATION LEVEL READ COMMITTED
SET autocommit = 'maybe'
SET max_allowed_packet = -1
SHOW DATABASES
SHOW TABLES
SHOW FULL TABLES FROM mysql LIKE '%'
SHOW VARIABLES LIKE 'version%'
SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime'
SHOW SESSION STATUS LIKE 'Com_%'
SHOW PROCESSLIST
SHOW FULL PROCESSLIST
SHOW WARNINGS
SHOW ERRORS
SHOW ENGINES
SHOW PLUGINS
SHOW CHARACTER SET
SHOW COLLATION
SHOW CREATE DATABASE mysql
SHOW GRANTS
SHOW TABLE STATUS
SHOW INDEX FROM mysql.user
SHOW COLUMNS FROM user FROM mysql
SHOW CREATE TABLE mysql.user
DESCRIBE mysql.user
EXPLAIN SELECT 1
SELECT * FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()
SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME LIKE 'max%' ORDER BY 1
SELECT * FROM information_schema.SESSION_STATUS s JOIN information_schema.GLOBAL_STATUS g USING (VARIABLE_NAME) LIMIT 3
SELECT * FROM information_schema.SCHEMATA
SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
SELECT * FROM information_schema.COLUMNS LIMIT 5
SELECT * FROM information_schema.PLUGINS
USE information_schema; SHOW TABLES; SELECT * FROM PROCESSLIST
USE information_schema; INSERT INTO PROCESSLIST (ID) VALUES (1)
CREATE DATABASE d; USE d; CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10) NOT NULL DEFAULT 'x', n DOUBLE, b BLOB, UNIQUE KEY (v)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (a INT PRIMARY KEY, b TEXT)<SEP>INSERT INTO t VALUES (1, 'x'), (2, NULL)<SEP>SELECT * FROM t WHERE a > 0 ORDER BY b DESC LIMIT 1 OFFSET 0
CREATE DATABASE d<SEP>CREATE TABLE d.t (a INT)<SEP>INSERT INTO d.t VALUES (1)<SEP>INSERT INTO d.t SELECT a + 1 FROM d.t<SEP>UPDATE d.t SET a = a * 2 WHERE a = 1<SEP>DELETE FROM d.t WHERE a = 2<SEP>SELECT COUNT(*), SUM(a), AVG(a), MIN(a), MAX(a), GROUP_CONCAT(a SEPARATOR ';') FROM d.t
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)<SEP>INSERT INTO t (v) VALUES (1) ON DUPLICATE KEY UPDATE v = v + 1<SEP>REPLACE INTO t VALUES (1, 5)<SEP>INSERT IGNORE INTO t VALUES (1, 6)<SEP>SELECT LAST_INSERT_ID(), ROW_COUNT()
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (a INT, b INT)<SEP>CREATE INDEX i ON t (a)<SEP>ALTER TABLE t ADD COLUMN c VARCHAR(5) AFTER a<SEP>ALTER TABLE t DROP COLUMN b<SEP>ALTER TABLE t RENAME TO u<SEP>DROP INDEX i ON u<SEP>SHOW CREATE TABLE u<SEP>DROP TABLE IF EXISTS u, t
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (a INT)<SEP>CREATE VIEW v AS SELECT a FROM t<SEP>SELECT * FROM v<SEP>DROP VIEW v<SEP>TRUNCATE TABLE t<SEP>ALTER TABLE t DISABLE KEYS<SEP>LOCK TABLES t WRITE<SEP>UNLOCK TABLES
CREATE DATABASE d<SEP>USE d<SEP>CREATE TEMPORARY TABLE tt (a INT)<SEP>INSERT INTO tt VALUES (1)<SEP>SELECT * FROM tt<SEP>DROP TEMPORARY TABLE tt
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (a INT)<SEP>START TRANSACTION<SEP>INSERT INTO t VALUES (1)<SEP>SAVEPOINT s<SEP>INSERT INTO t VALUES (2)<SEP>ROLLBACK TO SAVEPOINT s<SEP>ROLLBACK<SEP>SELECT * FROM t
CREATE DATABASE d<SEP>USE d<SEP>CREATE TABLE t (a INT, b VARCHAR(9))<SEP><PREP>INSERT INTO t VALUES (?, ?)<SEP><PREP>SELECT * FROM t WHERE a = ? OR b = ? OR a IS ? OR a < ?<SEP><PREP>SELECT a, b, a + 1.5, NULL FROM t
<PREP>SELECT ?, ?, ?, ?, ?
<PREP>SELECT 1; SELECT 2
<PREP>SET @x = ?
<PREP>SHOW VARIABLES LIKE ?
<PREP>CREATE DATABASE p
CREATE DATABASE d<SEP><INITDB>d<SEP><FIELDS>t<SEP>CREATE TABLE t (a INT)<SEP><FIELDS>t
<INITDB>mysql<SEP><FIELDS>user<SEP>SELECT User, Host FROM user
<INITDB>no_such_db
<INITDB>information_schema
<CHUSER>root
<CHUSER>nobody
DROP DATABASE IF EXISTS d; CREATE DATABASE IF NOT EXISTS d; CREATE SCHEMA d2; DROP SCHEMA d2; DROP DATABASE d
CREATE DATABASE `a-b`; USE `a-b`; CREATE TABLE `x y` (`c``d` INT); SELECT * FROM `a-b`.`x y`
CREATE DATABASE ../x
USE `../x`
KILL 1
KILL QUERY 1
KILL CONNECTION 99999999999
SHUTDOWN
FLUSH LOGS
FLUSH TABLES WITH READ LOCK
INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'
INSTALL SONAME '../../x.so'
UNINSTALL PLUGIN audit_null
CREATE FUNCTION f RETURNS STRING SONAME 'libudf_example.so'
CREATE AGGREGATE FUNCTION g RETURNS INTEGER SONAME 'x.so'
DROP FUNCTION f
CREATE USER 'u'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO 'u'@'%'; SHOW GRANTS FOR 'u'@'%'; DROP USER 'u'@'%'
CREATE USER 'u'@'localhost'<SEP><CHUSER>u
ALTER USER root@localhost IDENTIFIED BY 'x'
DO 1 + 1, SLEEP(0)
DO
HANDLER t OPEN
LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t
SELECT * INTO OUTFILE '/tmp/x' FROM mysql.user
SELECT 1 UNION ALL SELECT 2 UNION SELECT 3 ORDER BY 1 DESC
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT SUM(n) FROM c
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c
SELECT ROW_NUMBER() OVER (ORDER BY a), SUM(a) OVER (PARTITION BY a ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM (SELECT 1 AS a UNION SELECT 2) x
SELECT a FROM (SELECT 1 AS a) x LEFT JOIN (SELECT 2 AS b) y ON a = b CROSS JOIN (SELECT 3) z NATURAL JOIN (SELECT 1 AS a) w GROUP BY a HAVING COUNT(*) > 0 WINDOW w AS ()
SELECT SQL_NO_CACHE SQL_CALC_FOUND_ROWS DISTINCT 1 FROM DUAL WHERE 1 FOR UPDATE
SELECT CAST('1' AS SIGNED), CAST(1 AS CHAR), CONVERT('x' USING utf8mb4), CAST(NULL AS DATE), '2020-01-01' + INTERVAL 1 DAY
SELECT JSON_EXTRACT('{"a": 1}', '$.a'), '{"a":1}' ->> '$.a'
SELECT zeroblob(10), randomblob(4), typeof(1), sqlite_version()
SELECT ((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))
SELECT 1 FROM
SELECT 'unterminated
SELECT `unterminated
/* unterminated comment
/*!
SELECT 0x, 0b2, 1.2.3, 1e, .e1
;
 
EOF
# Raw command packets (\005 + packet) and raw wire bytes (\006 + bytes): ping,
# statistics, processlist, debug, refresh, set option, reset connection, stmt
# reset/close/long data, an unknown command, COM_QUIT, a COM_QUERY frame, a frame
# cut short, a bad sequence id.
for p in '\016' '\011' '\012' '\015' '\007\002' '\033\001\000' '\037' '\032\001\000\000\000' \
  '\031\001\000\000\000' '\030\001\000\000\000\000\000ab' '\377' '\001' '\014\001\000\000\000' \
  '\027\001\000\000\000\000\001\000\000\000'; do
  n=$((n + 1)); printf "\005$p" > "$sql/seed-$n"
done
n=$((n + 1)); printf '\006\011\000\000\000\003SELECT 1' > "$sql/seed-$n"
n=$((n + 1)); printf '\006\377\377\377\000\003SEL' > "$sql/seed-$n"
n=$((n + 1)); printf '\006\001\000\000\005\016' > "$sql/seed-$n"
n=$((n + 1)); printf 'CREATE DATABASE d\000\005\026SELECT ?\000\005\030\001\000\000\000\000\000long\000\005\027\001\000\000\000\000\001\000\000\000\000\001\375\000\000' > "$sql/seed-$n"
# Invalid UTF-8 and control bytes.
n=$((n + 1)); printf 'SELECT \377\376' > "$sql/seed-$n"
n=$((n + 1)); printf "SELECT '\303\050'" > "$sql/seed-$n"
n=$((n + 1)); printf 'SELECT `\342\202`' > "$sql/seed-$n"
n=$((n + 1)); printf 'SELECT 1\000\000' > "$sql/seed-$n"
# The statements the server's tests run.
here="$(cd "$(dirname "$0")/.." && pwd)"
grep -ohE '"(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|SET|SHOW|USE|BEGIN|COMMIT|ROLLBACK|START|KILL|INSTALL|UNINSTALL|REPLACE|TRUNCATE|DESCRIBE|EXPLAIN|FLUSH|GRANT|REVOKE|LOCK|UNLOCK|DO|RENAME|WITH) [^"]*"' \
  "$here"/tests/*.rs "$here"/src/*.rs "$here"/src/sql/*.rs 2>/dev/null | sort -u |
  while IFS= read -r q; do
    n=$((n + 1))
    printf '%s' "$q" | sed 's/^"//; s/"$//; s/\\n/\n/g' > "$sql/test-$n"
  done
ls "$sql" | wc -l
du -sh "$sql"
