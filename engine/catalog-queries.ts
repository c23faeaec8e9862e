/**
 * Catalog queries for one source schema. They run with `search_path` set to that schema (then pg_catalog), so
 * `format_type()`, `pg_get_expr()`, `pg_get_constraintdef()` and `pg_get_indexdef()` print the schema's own
 * objects unqualified and the definitions re-target cleanly. Work on PostgreSQL 12 and later.
 */

export const TABLES_SQL = `
SELECT c.oid::int8 AS oid, c.relname AS name, c.relkind AS kind, c.relispartition AS is_partition,
       c.relpersistence = 'u' AS unlogged,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       (SELECT i.inhparent::int8 FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition) AS parent_oid,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t
                    JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)
            ELSE greatest(c.reltuples, 0) END::float8 AS estimated_rows,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t)
            ELSE pg_total_relation_size(c.oid) END::int8 AS estimated_bytes,
       has_table_privilege(c.oid, 'SELECT') AS can_select
  FROM pg_class c
 WHERE c.relnamespace = $1::oid AND c.relkind IN ('r', 'p')
 ORDER BY c.relname`;

/**
 * Columns with what decides binary COPY safety: array and composite values embed element/field type OIDs in
 * binary form, and \`array_recv\`/\`record_recv\` reject OIDs that differ, which user types always do across
 * databases. Types without binary I/O functions cannot be copied in binary at all.
 */
export const COLUMNS_SQL = `
WITH RECURSIVE type_closure(root, oid) AS (
  SELECT a.atttypid, a.atttypid FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
  UNION
  SELECT tc.root, nxt.oid
    FROM type_closure tc JOIN pg_type t ON t.oid = tc.oid
    CROSS JOIN LATERAL (
      SELECT t.typelem AS oid WHERE t.typelem <> 0
      UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
      UNION ALL SELECT ca.atttypid FROM pg_attribute ca
                 WHERE t.typrelid <> 0 AND ca.attrelid = t.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped
    ) nxt
),
binary_unsafe AS (
  SELECT DISTINCT tc.root
    FROM type_closure tc JOIN pg_type t ON t.oid = tc.oid
   WHERE t.typsend = 0 OR t.typreceive = 0
      OR (t.typcategory = 'A' AND t.typelem >= 16384)
      OR (t.typtype = 'c')
      OR (t.typcategory = 'A' AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typtype IN ('c', 'd', 'e', 'r', 'm')))
)
SELECT a.attrelid::int8 AS table_oid, a.attnum, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type, a.atttypid::int8 AS type_oid, a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated_expr,
       a.attidentity AS identity,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN CASE WHEN co.collnamespace = 'pg_catalog'::regnamespace THEN quote_ident(co.collname)
                      ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END END AS collation,
       a.atttypid IN (SELECT root FROM binary_unsafe) AS binary_unsafe,
       (SELECT dep.refobjid::int8 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
         WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid AND dep.refclassid = 'pg_class'::regclass
         LIMIT 1) AS default_sequence_oid,
       (SELECT dep.objid::int8 FROM pg_depend dep
         WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
           AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'i' LIMIT 1) AS identity_sequence_oid,
       EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_proc p ON p.oid = dep.refobjid
                WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                  AND dep.refclassid = 'pg_proc'::regclass AND p.provolatile = 'v') AS default_calls_volatile
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
 WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum`;

export const SEQUENCES_SQL = `
SELECT s.seqrelid::int8 AS oid, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
       s.seqcache::text AS cache, s.seqcycle AS cycle,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT') OR has_sequence_privilege(c.oid, 'USAGE')
            THEN pg_sequence_last_value(c.oid)::text END AS last_value,
       owner.relname AS owner_table, owner_col.attname AS owner_column
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  LEFT JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
        AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
  LEFT JOIN pg_class owner ON owner.oid = dep.refobjid AND owner.relnamespace = c.relnamespace
  LEFT JOIN pg_attribute owner_col ON owner_col.attrelid = dep.refobjid AND owner_col.attnum = dep.refobjsubid
 WHERE s.seqrelid = ANY($1::oid[])`;

export const CONSTRAINTS_SQL = `
SELECT con.conrelid::int8 AS table_oid, con.conname AS name, con.contype AS type,
       pg_get_constraintdef(con.oid) AS definition,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
       CASE WHEN con.contype = 'f' AND rc.relnamespace = $2::oid THEN rc.relname END AS referenced_table
  FROM pg_constraint con
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid
 WHERE con.conrelid = ANY($1::oid[]) AND con.contype IN ('p', 'u', 'c', 'x', 'f')
 ORDER BY con.conrelid, con.contype, con.conname`;

/**
 * Indexes that do not back a constraint. The part after the table name is cut off at the exact length of the
 * prefix pg_get_indexdef() prints (the table schema-qualified, or on older servers qualified only when not
 * visible, as \`regclass::text\` does), so no name is ever parsed out of SQL text.
 */
export const INDEXES_SQL = `
SELECT i.indrelid::int8 AS table_oid, ic.relname AS name, i.indisunique AS is_unique,
       ARRAY(SELECT a.attname::text FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = i.indrelid AND d.refobjsubid > 0
              UNION SELECT a.attname::text FROM unnest(i.indkey::int2[]) k(attnum)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns,
       CASE WHEN substr(d.def, length(d.prefix || d.qualified) + 1) LIKE ' USING %'
            THEN substr(d.def, length(d.prefix || d.qualified) + 1)
            ELSE substr(d.def, length(d.prefix || t.oid::regclass::text) + 1) END AS tail
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  CROSS JOIN LATERAL (
    SELECT pg_get_indexdef(i.indexrelid) AS def,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(ic.relname)
             || ' ON ' || CASE WHEN t.relkind = 'p' THEN 'ONLY ' ELSE '' END AS prefix,
           (SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.oid = t.relnamespace) || '.' || quote_ident(t.relname) AS qualified
  ) d
 WHERE i.indrelid = ANY($1::oid[])
   -- An invalid index is one a failed or unfinished CREATE INDEX CONCURRENTLY left behind: not in use.
   AND i.indisvalid
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                    WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
 ORDER BY i.indrelid, ic.relname`;

/** User types of the schema reachable from the columns (through arrays, domains, composites and ranges). */
export const TYPES_SQL = `
WITH RECURSIVE used(oid, depth) AS (
  SELECT a.atttypid, 0 FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT nxt.oid, u.depth + 1
    FROM used u JOIN pg_type t ON t.oid = u.oid
    CROSS JOIN LATERAL (
      SELECT t.typelem AS oid WHERE t.typelem <> 0
      UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
      UNION ALL SELECT ca.atttypid FROM pg_attribute ca
                 WHERE t.typrelid <> 0 AND ca.attrelid = t.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped
      UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
    ) nxt
   WHERE u.depth < 20
)
SELECT t.oid::int8 AS oid, t.typname AS name, t.typtype AS kind, max(u.depth) AS depth,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null, t.typdefault AS default_expr,
       CASE WHEN t.typcollation <> 0 AND t.typtype = 'd'
             AND t.typcollation <> (SELECT bt.typcollation FROM pg_type bt WHERE bt.oid = t.typbasetype)
            THEN (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = t.typcollation) END AS collation,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels,
       ARRAY(SELECT c.conname::text FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS check_names,
       ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS check_defs,
       ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS attribute_names,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS attribute_types,
       (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS range_subtype
  FROM used u JOIN pg_type t ON t.oid = u.oid
 WHERE t.typnamespace = $2::oid AND t.typtype IN ('e', 'd', 'c', 'r')
   AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
 GROUP BY t.oid
 ORDER BY max(u.depth) DESC, t.typname`;

export const NOT_COPIED_SQL = `
SELECT c.relname AS name, CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END AS kind
  FROM pg_class c WHERE c.relnamespace = $1::oid AND c.relkind IN ('v', 'm', 'f')
UNION ALL
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END
  FROM pg_proc p
 WHERE p.pronamespace = $1::oid
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT tg.tgname || ' on ' || c.relname, 'trigger'
  FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = $1::oid AND NOT tg.tgisinternal AND c.relkind IN ('r', 'p') AND tg.tgparentid = 0
 ORDER BY 2, 1`;
