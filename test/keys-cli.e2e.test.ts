import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createAuditLogRepo } from "@lifecycle/db";
import { describe, expect, test } from "@lifecycle/testkit";

// `npm run keys` as an operator runs it (issue 12, point 4): a key with an expiry, its rotation
// with an overlap, the list with last use and expiry, and each change in the audit log.
const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const keysCli = async (databaseUrl: string, ...args: string[]) =>
  (await run(process.execPath, ["--import", "tsx", "scripts/keys.ts", ...args], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" }, timeout: 60_000 })).stdout;

describe("npm run keys", { timeout: 90_000 }, () => {
  test("create --expires, rotate --overlap, list and the audit log", async ({ database }) => {
    const created = await keysCli(database.url, "create", "--scope", "read", "--name", "crm", "--expires", "30d");
    const [, id, expires] = /^created key ([0-9a-f]{12}) with scopes read, expiring (\S+);/m.exec(created) ?? [];
    expect(id).toBeDefined();
    expect(Date.parse(expires ?? "") - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    expect(created).toMatch(/^lcs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/m);

    const rotated = await keysCli(database.url, "rotate", id ?? "", "--overlap", "2h");
    const [, oldExpires, newId] = new RegExp(`^key ${id} now expires (\\S+); its replacement ([0-9a-f]{12})`, "m").exec(rotated) ?? [];
    expect(Math.abs(Date.parse(oldExpires ?? "") - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000);

    const list = await keysCli(database.url, "list");
    expect(list.split("\n")[0]).toBe("id\tname\tscopes\tcreated\tlast used\texpires\tstate");
    expect(list).toContain(`${id}\tcrm\tread\t`);
    expect(list).toMatch(new RegExp(`^${id}\\tcrm\\tread\\t\\S+\\tnever\\t${oldExpires}\\tactive, replaced by ${newId}$`, "m"));
    expect(list).toMatch(new RegExp(`^${newId}\\tcrm\\tread\\t\\S+\\tnever\\tnever\\tactive$`, "m"));

    const entries = await createAuditLogRepo(database.pool).list({ limit: 10 });
    expect(entries.map((e) => [e.action, e.subject])).toEqual([
      ["key.rotated", id],
      ["key.created", id],
    ]);
    expect(entries[0]?.actor).toMatch(/^cli:/);
    expect(entries[0]?.details).toMatchObject({ replacedBy: newId });
    // A bad duration is refused with the usage, not stored.
    await expect(keysCli(database.url, "create", "--scope", "read", "--expires", "soon")).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--expires takes a duration") });
  });
});
