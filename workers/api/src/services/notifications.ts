import type { NotificationKind } from "@tenantry/core";
import { notifications } from "@tenantry/schema/tenant";
import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { NotFoundError } from "../errors";
import { listPage, type Page, type PageQuery } from "../lib/pagination";

type NotificationRow = typeof notifications.$inferSelect;

export function notificationView(n: NotificationRow) {
  return {
    id: n.id,
    // Written only through `notify`, which takes a kind of the closed list.
    kind: n.kind as NotificationKind,
    title: n.title,
    body: n.body,
    link: n.link,
    read_at: n.readAt === null ? null : new Date(n.readAt).toISOString(),
    created_at: new Date(n.createdAt).toISOString(),
  };
}
export type NotificationView = ReturnType<typeof notificationView>;

/** How many of the tenant's notifications nobody has read (the bell's count, on `GET /v1/me`). */
export async function unreadCount(ctx: ServiceContext): Promise<number> {
  const [row] = await ctx.db.orm
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.tenantId, ctx.tenant.id), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

/**
 * The tenant's notifications, newest first (ids are time-sortable), with the unread count. One
 * inbox per tenant (ADR 019): every member sees the same notifications and read state.
 */
export async function listNotifications({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: PageQuery;
}): Promise<Page<NotificationView> & { unread_count: number }> {
  const [page, unread] = await Promise.all([
    listPage(ctx.db, notifications, input, notificationView),
    unreadCount(ctx),
  ]);
  return { ...page, unread_count: unread };
}

/**
 * Marks one notification read; already read keeps its first read time. One UPDATE, so marking
 * twice (two tabs) is the same as once. Not audited: read state is not a change to the tenant.
 */
export async function markNotificationRead({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}): Promise<NotificationView> {
  const [row] = await ctx.db.orm
    .update(notifications)
    .set({ readAt: sql`COALESCE(${notifications.readAt}, ${Date.now()})` })
    .where(and(eq(notifications.id, input.id), eq(notifications.tenantId, ctx.tenant.id)))
    .returning();
  if (!row) throw new NotFoundError("notification");
  return notificationView(row);
}

/** Marks every unread notification read; returns how many this call marked. */
export async function markAllNotificationsRead({
  ctx,
}: {
  ctx: ServiceContext;
}): Promise<{ marked: number; unread_count: number }> {
  const marked = await ctx.db.orm
    .update(notifications)
    .set({ readAt: Date.now() })
    .where(and(eq(notifications.tenantId, ctx.tenant.id), isNull(notifications.readAt)))
    .returning({ id: notifications.id });
  return { marked: marked.length, unread_count: await unreadCount(ctx) };
}
