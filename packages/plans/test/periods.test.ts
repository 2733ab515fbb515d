import { describe, expect, it } from "vitest";
import { addMonths, usagePeriod } from "../src/periods";

const utc = (...parts: [number, number, number, number?, number?]) =>
  Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3] ?? 0, parts[4] ?? 0);

describe("usage periods", () => {
  it("without a billing anchor: calendar months in UTC", () => {
    expect(usagePeriod(utc(2026, 11, 27, 23, 59))).toEqual({
      start: utc(2026, 11, 1),
      end: utc(2026, 12, 1),
    });
    expect(usagePeriod(utc(2026, 12, 31, 23, 59))).toEqual({
      start: utc(2026, 12, 1),
      end: utc(2027, 1, 1),
    });
  });

  it("with an anchor: periods renew on the anchor's day and time", () => {
    const anchor = utc(2026, 3, 15, 12, 30);
    expect(usagePeriod(utc(2026, 11, 20), anchor)).toEqual({
      start: utc(2026, 11, 15, 12, 30),
      end: utc(2026, 12, 15, 12, 30),
    });
    // Just before the boundary, and at it.
    expect(usagePeriod(utc(2026, 11, 15, 12, 29), anchor).start).toBe(utc(2026, 10, 15, 12, 30));
    expect(usagePeriod(utc(2026, 11, 15, 12, 30), anchor).start).toBe(utc(2026, 11, 15, 12, 30));
    // An anchor in the future (the period end Stripe reports) works the same way.
    expect(usagePeriod(utc(2026, 11, 20), utc(2026, 12, 15, 12, 30)).start).toBe(
      utc(2026, 11, 15, 12, 30),
    );
  });

  it("clamps days the month lacks, as Stripe's billing cycle anchors do", () => {
    const anchor = utc(2026, 1, 31);
    expect(addMonths(anchor, 1)).toBe(utc(2026, 2, 28));
    expect(addMonths(anchor, 3)).toBe(utc(2026, 4, 30));
    expect(usagePeriod(utc(2026, 3, 5), anchor)).toEqual({
      start: utc(2026, 2, 28),
      end: utc(2026, 3, 31),
    });
  });
});
