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
  /** When it stops working on its own (null: never). */
  expiresAt: Date | null;
  /** The key that replaced it in a rotation. */
  replacedBy: string | null;
}

/** A key is usable while it is neither revoked nor past its expiry. */
const USABLE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";

const KEY_PATTERN = /^lcs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest();
const isScope = (s: string): s is ApiScope => API_SCOPES.some((x) => x === s);

/**
 * API keys, `lcs_<id>_<secret>`: the id is public and finds the row, the secret is kept only as
 * its SHA-256 and compared in constant time. The plaintext key exists once, when created.
 */
export function createApiKeyRepo(db: Queryable) {
  async function create({ name, scopes, expiresAt }: { name: string; scopes: readonly ApiScope[]; expiresAt?: Date | undefined }, tx: Queryable = db): Promise<{ id: string; key: string }> {
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    await tx.query("INSERT INTO api_keys (id, name, secret_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5)", [id, name, sha256(secret).toString("hex"), [...new Set(scopes)], expiresAt ?? null]);
    return { id, key: `lcs_${id}_${secret}` };
  }

  return {
    create,

    /** The key's id and scopes if it is valid and not revoked; undefined otherwise. */
    async verify(key: string, tx: Queryable = db): Promise<{ id: string; scopes: ApiScope[] } | undefined> {
      const m = KEY_PATTERN.exec(key);
      if (!m?.[1] || !m[2]) return undefined;
      const r = await tx.query<{ secret_hash: string; scopes: string[] }>(`SELECT secret_hash, scopes FROM api_keys WHERE id = $1 AND ${USABLE}`, [m[1]]);
      const row = r.rows[0];
      if (!row) return undefined;
      const stored = Buffer.from(row.secret_hash, "hex");
      const given = sha256(m[2]);
      if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
      return { id: m[1], scopes: row.scopes.filter(isScope) };
    },

    /** Whether the key is still valid (not revoked, not expired): open streams ask again now and then. */
    async isActive(id: string, tx: Queryable = db): Promise<boolean> {
      const r = await tx.query(`SELECT 1 FROM api_keys WHERE id = $1 AND ${USABLE}`, [id]);
      return (r.rowCount ?? 0) > 0;
    },

    async touch(id: string, tx: Queryable = db): Promise<void> {
      // At most once a minute per key: the timestamp is for humans, not an audit log.
      await tx.query("UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')", [id]);
    },

    async list(tx: Queryable = db): Promise<ApiKeyInfo[]> {
      const r = await tx.query<{ id: string; name: string; scopes: string[]; created_at: Date; last_used_at: Date | null; revoked_at: Date | null; expires_at: Date | null; replaced_by: string | null }>(
        "SELECT id, name, scopes, created_at, last_used_at, revoked_at, expires_at, replaced_by FROM api_keys ORDER BY created_at",
      );
      return r.rows.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes.filter(isScope), createdAt: k.created_at, lastUsedAt: k.last_used_at, revokedAt: k.revoked_at, expiresAt: k.expires_at, replacedBy: k.replaced_by }));
    },

    /**
     * Rotation with an overlap: a new key with the same name and scopes, and the old one expiring
     * `overlapMs` from now (sooner if it already expires sooner), so clients can switch without a
     * gap. Undefined when `id` is not a usable key.
     */
    async rotate(id: string, { overlapMs, expiresAt }: { overlapMs: number; expiresAt?: Date | undefined }, tx: Queryable = db): Promise<{ id: string; key: string; oldExpiresAt: Date } | undefined> {
      const old = await tx.query<{ name: string; scopes: string[] }>(`SELECT name, scopes FROM api_keys WHERE id = $1 AND ${USABLE} FOR UPDATE`, [id]);
      const row = old.rows[0];
      if (!row) return undefined;
      const created = await create({ name: row.name, scopes: row.scopes.filter(isScope), expiresAt }, tx);
      const updated = await tx.query<{ expires_at: Date }>(
        "UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $2::double precision / 1000)), replaced_by = $3 WHERE id = $1 RETURNING expires_at",
        [id, overlapMs, created.id],
      );
      const oldExpiresAt = updated.rows[0]?.expires_at;
      if (!oldExpiresAt) throw new Error(`key ${id} vanished during its rotation`);
      return { ...created, oldExpiresAt };
    },

    async revoke(id: string, tx: Queryable = db): Promise<boolean> {
      const r = await tx.query("UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [id]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}
export type ApiKeyRepo = ReturnType<typeof createApiKeyRepo>;
