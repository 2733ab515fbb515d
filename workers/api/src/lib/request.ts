export function clientIp(req: Request): string | null {
  return req.headers.get("cf-connecting-ip");
}
