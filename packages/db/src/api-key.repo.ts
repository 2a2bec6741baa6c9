import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Queryable } from "./pool.js";

export const API_SCOPES = ["read", "ingest", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: ApiScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const KEY_PATTERN = /^lcs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest();
const isScope = (s: string): s is ApiScope => API_SCOPES.some((x) => x === s);

/**
 * API keys, `lcs_<id>_<secret>`: the id is public and finds the row, the secret is kept only as
 * its SHA-256 and compared in constant time. The plaintext key exists once, when created.
 */
export function createApiKeyRepo(db: Queryable) {
  return {
    async create({ name, scopes }: { name: string; scopes: readonly ApiScope[] }, tx: Queryable = db): Promise<{ id: string; key: string }> {
      const id = randomBytes(6).toString("hex");
      const secret = randomBytes(32).toString("base64url");
      await tx.query("INSERT INTO api_keys (id, name, secret_hash, scopes) VALUES ($1, $2, $3, $4)", [id, name, sha256(secret).toString("hex"), [...new Set(scopes)]]);
      return { id, key: `lcs_${id}_${secret}` };
    },

    /** The key's id and scopes if it is valid and not revoked; undefined otherwise. */
    async verify(key: string, tx: Queryable = db): Promise<{ id: string; scopes: ApiScope[] } | undefined> {
      const m = KEY_PATTERN.exec(key);
      if (!m?.[1] || !m[2]) return undefined;
      const r = await tx.query<{ secret_hash: string; scopes: string[] }>("SELECT secret_hash, scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL", [m[1]]);
      const row = r.rows[0];
      if (!row) return undefined;
      const stored = Buffer.from(row.secret_hash, "hex");
      const given = sha256(m[2]);
      if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
      return { id: m[1], scopes: row.scopes.filter(isScope) };
    },

    /** Whether the key is still valid (not revoked): open streams ask again now and then. */
    async isActive(id: string, tx: Queryable = db): Promise<boolean> {
      const r = await tx.query("SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL", [id]);
      return (r.rowCount ?? 0) > 0;
    },

    async touch(id: string, tx: Queryable = db): Promise<void> {
      // At most once a minute per key: the timestamp is for humans, not an audit log.
      await tx.query("UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')", [id]);
    },

    async list(tx: Queryable = db): Promise<ApiKeyInfo[]> {
      const r = await tx.query<{ id: string; name: string; scopes: string[]; created_at: Date; last_used_at: Date | null; revoked_at: Date | null }>(
        "SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at",
      );
      return r.rows.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes.filter(isScope), createdAt: k.created_at, lastUsedAt: k.last_used_at, revokedAt: k.revoked_at }));
    },

    async revoke(id: string, tx: Queryable = db): Promise<boolean> {
      const r = await tx.query("UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [id]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}
export type ApiKeyRepo = ReturnType<typeof createApiKeyRepo>;
