/**
 * Issue 7, fault suite item 9: the destination cannot take one table. Out of space (a tablespace on a tiny tmpfs,
 * when the tests may mount one), or a row late in the table that the destination refuses (a character its
 * encoding lacks, a domain check): that table fails and keeps its previous version, the rest continue, and once the
 * cause is gone a rerun converges.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { exitCodeOf, run, type RunReport, type TableResult } from "../engine/index.js";
import {
  assertNoLeftovers,
  assertOldOrNew,
  assertSameRows,
  serverOsUser,
  snapshotTarget,
} from "./support/faults.js";
import { adminClient, connectionConfig, createDatabase, type TestDatabase } from "./support/servers.js";
import { makeSpec } from "./support/spec.js";

function byName(report: RunReport): Record<string, TableResult> {
  return Object.fromEntries(report.tables.map((t) => [t.name, t]));
}

/** A database of the PostgreSQL 17 test server in another encoding than the UTF-8 default. */
async function createLatin1Database(): Promise<TestDatabase> {
  const name = `latin1_${randomBytes(5).toString("hex")}`;
  const admin = await adminClient(17);
  try {
    await admin.query(
      `CREATE DATABASE "${name}" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
  } finally {
    await admin.end();
  }
  const client = await adminClient(17, name);
  return {
    major: 17,
    name,
    config: connectionConfig(17, name),
    client,
    async drop() {
      await client.end();
      const closer = await adminClient(17);
      await closer.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await closer.end();
    },
  };
}

/**
 * A tmpfs of `sizeMb` mounted for the test server's OS user, or why there cannot be one here (mounting needs root,
 * and the server must run on this machine).
 */
async function tinyFilesystem(
  sizeMb: number,
): Promise<{ dir: string; resize(mb: number): void; remove(): void } | string> {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const admin = await adminClient(17);
  const dataDirectory = (await admin.query<{ d: string }>("SELECT current_setting('data_directory') AS d"))
    .rows[0]?.d;
  await admin.end();
  if (!dataDirectory || !existsSync(dataDirectory))
    return "the PostgreSQL 17 test server does not run on this machine";
  const dir = mkdtempSync(path.join(os.tmpdir(), "pgferry-tiny-"));
  const { uid, gid } = serverOsUser();
  try {
    execFileSync(
      "mount",
      ["-t", "tmpfs", "-o", `size=${sizeMb}m,uid=${uid},gid=${gid},mode=0700`, "tmpfs", dir],
      {
        stdio: "ignore",
      },
    );
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return "cannot mount a tmpfs here";
  }
  return {
    dir,
    resize: (mb) => execFileSync("mount", ["-o", `remount,size=${mb}m`, dir], { stdio: "ignore" }),
    remove: () => {
      execFileSync("umount", [dir], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("faults: the destination cannot take one table", () => {
  let source: TestDatabase;

  before(async () => {
    source = await createDatabase(17, "space_src");
    await source.client.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 100000) g;
      CREATE TABLE words (id int PRIMARY KEY, word text);
      INSERT INTO words SELECT g, 'word ' || g FROM generate_series(1, 50000) g;
      CREATE TABLE small (id int PRIMARY KEY, v text);
      INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 100) g;`);
  });
  after(async () => {
    await source?.drop();
  });

  test("out of space: the table that does not fit fails (53100) and keeps its previous version; the others land", async (t) => {
    const tiny = await tinyFilesystem(3);
    if (typeof tiny === "string") {
      t.skip(tiny);
      return;
    }
    const destination = await createDatabase(17, "space_dst");
    const tablespace = `tiny_${randomBytes(4).toString("hex")}`;
    try {
      const tables = ["big", "small"].map((name) => ({ name }));
      const spec = makeSpec(source.config, destination.config, { jobs: 1, tables });
      await run(spec);
      await source.client.query(
        "INSERT INTO big SELECT g, 'new' FROM generate_series(200001, 200100) g; INSERT INTO small VALUES (101, 'new')",
      );
      const before = await snapshotTarget(destination, ["big", "small"]);
      await destination.client.query(`CREATE TABLESPACE ${tablespace} LOCATION '${tiny.dir}'`);
      await destination.client.query(
        `ALTER DATABASE "${destination.name}" SET default_tablespace = ${tablespace}`,
      );

      const report = await run(spec);
      const result = byName(report);
      assert.equal(result.big?.status, "failed");
      assert.equal(result.big?.error?.code, "53100", JSON.stringify(result.big?.error));
      assert.match(result.big?.error?.message ?? "", /No space left on device/);
      assert.equal(result.small?.status, "ok");
      assert.equal(exitCodeOf(report), 1);
      await assertOldOrNew(report, before, source, destination);

      tiny.resize(64);
      assert.equal((await run(spec)).totals.tablesFailed, 0);
      await assertSameRows(source, destination, ["big", "small"]);
    } finally {
      await destination.drop();
      const admin = await adminClient(17);
      await admin.query(`DROP TABLESPACE IF EXISTS ${tablespace}`).finally(() => admin.end());
      tiny.remove();
    }
  });

  test("a row late in a table that the destination's encoding cannot hold fails that table part-way (22P05)", async () => {
    const destination = await createLatin1Database();
    try {
      const spec = makeSpec(source.config, destination.config, { jobs: 1 });
      assert.equal((await run(spec)).totals.tablesFailed, 0);
      await source.client.query(
        "INSERT INTO words SELECT g, 'later ' || g FROM generate_series(50001, 60000) g; INSERT INTO words VALUES (60001, '日本語')",
      );
      await source.client.query(
        "INSERT INTO small VALUES (102, 'new'); INSERT INTO big VALUES (300000, 'new')",
      );
      const before = await snapshotTarget(destination, ["big", "words", "small"]);

      const report = await run(spec);
      const result = byName(report);
      assert.equal(result.words?.status, "failed");
      assert.equal(result.words?.error?.code, "22P05");
      assert.match(result.words?.error?.message ?? "", /has no equivalent in encoding "LATIN1"/);
      assert.deepEqual([result.big?.status, result.small?.status], ["ok", "ok"]);
      await assertOldOrNew(report, before, source, destination);

      await source.client.query("DELETE FROM words WHERE id = 60001");
      assert.equal((await run(spec)).totals.tablesFailed, 0);
      await assertSameRows(source, destination, ["big", "words", "small"]);
    } finally {
      await destination.drop();
    }
  });

  test("old rows that break a NOT VALID domain check fail only their table; an invalid index is not copied", async () => {
    const destination = await createDatabase(17, "space_dst");
    const other = await createDatabase(17, "space_src2");
    try {
      await other.client.query(`
        CREATE DOMAIN positive AS int;
        CREATE TABLE measures (id int PRIMARY KEY, value positive);
        INSERT INTO measures SELECT g, g FROM generate_series(1, 1000) g;
        INSERT INTO measures VALUES (1001, -1);
        ALTER DOMAIN positive ADD CONSTRAINT positive_check CHECK (VALUE > 0) NOT VALID;
        CREATE TABLE codes (id int PRIMARY KEY, code text);
        INSERT INTO codes VALUES (1, 'a'), (2, 'a'), (3, 'b');`);
      // Fails on the duplicate and leaves an invalid index behind.
      await assert.rejects(other.client.query("CREATE UNIQUE INDEX CONCURRENTLY codes_code ON codes (code)"));

      const report = await run(makeSpec(other.config, destination.config));
      const result = byName(report);
      assert.equal(result.measures?.status, "failed");
      assert.equal(result.measures?.error?.code, "23514");
      assert.equal(result.codes?.status, "ok", JSON.stringify(result.codes?.error));
      const { rows } = await destination.client.query<{ convalidated: boolean }>(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'positive_check'",
      );
      assert.deepEqual(
        rows,
        [{ convalidated: false }],
        "the domain check is recreated NOT VALID, as in the source",
      );
      await assertSameRows(other, destination, ["codes"]);
      await assertNoLeftovers(other, destination);
    } finally {
      await Promise.all([destination.drop(), other.drop()]);
    }
  });
});
