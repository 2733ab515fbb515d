import { NavLink } from "react-router";

/** The accessible name says the count ("Notifications, 2 unread"); the badge shows it. */
function bellLabel(unread: number): string {
  return unread === 0 ? "Notifications, none unread" : `Notifications, ${unread} unread`;
}

/**
 * The header's bell: a plain link to /notifications (works without JavaScript), its unread count
 * from `GET /v1/me` (the layout's loader).
 */
export function NotificationBell({ unread }: { unread: number }) {
  return (
    <NavLink to="/notifications" className="bell" aria-label={bellLabel(unread)}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {unread ? (
        <span className="bell-count" aria-hidden="true">
          {unread > 99 ? "99+" : unread}
        </span>
      ) : null}
    </NavLink>
  );
}
