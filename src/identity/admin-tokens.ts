import { newId, type Clock } from '../clock.ts';
import { tables, type Database } from '../store/index.ts';
import { generateToken, hashToken } from './token.ts';

export async function issueAdminToken(
  db: Database,
  clock: Clock,
  options: { label?: string; expiresInMs?: number } = {},
): Promise<{ token: string; expiresAt: string | null }> {
  const token = generateToken('admin');
  const now = clock.now();
  const expiresAt = options.expiresInMs ? new Date(now.getTime() + options.expiresInMs) : null;
  await db.insert(tables.adminTokens).values({
    id: newId(clock),
    label: options.label ?? 'cli',
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt: expiresAt?.toISOString() ?? null };
}
