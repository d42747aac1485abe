import { config } from "../shared/config";
import { functionTable } from "./function-table";
import { registerFunctions } from "./table";

// The bundle's entry: the local host serves the exported table, Azure Functions gets it registered.
export { functionTable };

// Refuse to start with an unsafe or incomplete configuration: fail at load, naming every bad setting.
config();
registerFunctions(functionTable);
