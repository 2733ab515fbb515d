import { Link } from "react-router";

/**
 * The API pages forward only (`next_cursor`). To go back without JavaScript or session state, the
 * URL carries the cursors of the pages before this one: `?cursor=<this page>&trail=<earlier>`,
 * dot-separated (cursors are `prefix_ULID`, never a dot), `-` standing for the first page.
 */
export function pageQuery(url: URL): { limit: number; cursor?: string; trail: string[] } {
  const cursor = url.searchParams.get("cursor") || undefined;
  const trail = url.searchParams.get("trail")?.split(".").filter(Boolean) ?? [];
  return { limit: pageSize(url), ...(cursor && { cursor }), trail };
}

/** `?limit=` sizes the page (the API allows 1–100); 10 by default keeps Next in reach. */
function pageSize(url: URL): number {
  const asked = Number(url.searchParams.get("limit"));
  return Number.isInteger(asked) && asked >= 1 && asked <= 100 ? asked : 10;
}

function hrefWith(url: URL, cursor: string | undefined, trail: string[]): string {
  const params = new URLSearchParams(url.search);
  params.delete("cursor");
  params.delete("trail");
  params.delete("confirm");
  if (cursor && cursor !== "-") params.set("cursor", cursor);
  if (trail.length > 0) params.set("trail", trail.join("."));
  const query = params.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

/** Previous and Next links for a cursor-paged list; `href` is the page's own URL. */
export function Pager({
  href,
  nextCursor,
  label,
}: {
  href: string;
  nextCursor: string | null;
  label: string;
}) {
  const url = new URL(href, "http://page");
  const { cursor, trail } = pageQuery(url);
  const previous = cursor ? hrefWith(url, trail.at(-1), trail.slice(0, -1)) : null;
  const next = nextCursor ? hrefWith(url, nextCursor, [...trail, cursor ?? "-"]) : null;
  if (!previous && !next) return null;
  return (
    <nav aria-label={label} className="row pager">
      {previous && (
        <Link to={previous} rel="prev">
          Previous
        </Link>
      )}
      {next && (
        <Link to={next} rel="next">
          Next
        </Link>
      )}
    </nav>
  );
}
