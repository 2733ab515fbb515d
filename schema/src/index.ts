export * as control from "./control/index";
export * from "./ids";
export * as tenant from "./tenant/index";
