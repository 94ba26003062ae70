-- sqlite3 in memory: 300,000 inserts, an index, updates, deletes, a sort.
-- Run by tests/preload_test.sh and tools/bench_report --programs.
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
  INSERT INTO t(k, v) SELECT (i * 7919) % 100003, printf('value-%d-%s', i, hex(i * 31)) FROM n;
CREATE INDEX tk ON t(k);
UPDATE t SET v = v || '-u' WHERE k % 3 = 0;
DELETE FROM t WHERE k % 5 = 0;
SELECT count(*), sum(k), sum(length(v)) FROM t;
SELECT k, v FROM t ORDER BY v DESC LIMIT 5;
