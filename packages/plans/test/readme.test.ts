import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { CATALOG } from "../src/index";
import { catalogTable } from "./catalog-table";

describe("README", () => {
  it("shows the catalog as it is", () => {
    expect(readme).toContain(catalogTable(CATALOG));
  });
});
