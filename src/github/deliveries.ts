import { desc } from 'drizzle-orm';
import { newId, type Clock } from '../clock.ts';
import { tables, type Database } from '../store/index.ts';
import { appendAuditEvent, type AuditAppender } from '../audit/events.ts';

export type WebhookOutcome = (typeof tables.webhookDeliveries.$inferInsert)['outcome'];

export interface DeliveryRecord {
  /** `X-GitHub-Delivery`, as sent (unverified when the signature is bad). */
  deliveryId: string | null;
  /** `X-GitHub-Event`, as sent. */
  event: string | null;
  /** From the payload, only when the signature checked out. */
  action: string | null;
  installationId: number | null;
  sourceAddress: string;
  outcome: WebhookOutcome;
}

export interface DeliveryLog {
  record(delivery: DeliveryRecord): Promise<void>;
  recent(limit: number): Promise<Array<DeliveryRecord & { at: string }>>;
}

/** Every webhook delivery attempt, signed or not. */
export function createDeliveryLog(db: Database, clock: Clock, audit: AuditAppender): DeliveryLog {
  return {
    async record(delivery) {
      await db.insert(tables.webhookDeliveries).values({ id: newId(clock), ...delivery, at: clock.now() });
      await appendAuditEvent(audit, 'webhook.received', {
        actor: delivery.sourceAddress,
        subject: delivery.deliveryId,
        data: { deliveryId: delivery.deliveryId, event: delivery.event, action: delivery.action, installationId: delivery.installationId, outcome: delivery.outcome },
      });
    },
    async recent(limit) {
      const rows = await db.select().from(tables.webhookDeliveries).orderBy(desc(tables.webhookDeliveries.at)).limit(limit);
      return rows.map(({ id: _id, at, ...row }) => ({ ...row, at: at.toISOString() }));
    },
  };
}
