/** Marks the example product's pages: the part of the app a team replaces with its own product. */
export function ExampleProduct() {
  return (
    <p className="example-product">
      <span className="badge">Example product</span>{" "}
      <span className="muted">
        Projects and tasks show how a product sits on the platform; replace them with yours (see
        apps/tenant/README.md).
      </span>
    </p>
  );
}
