/** The logo's URL, versioned by its upload time so the browser's cached copy is never stale. */
export function logoUrl(updatedAt: string): string {
  return `/branding/logo?v=${encodeURIComponent(updatedAt)}`;
}
