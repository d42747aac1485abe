import { fanoutShape, measureFanout } from "./stack/fanout";

async function main(): Promise<void> {
  const hosts = Number(process.env.HOSTS ?? 1);
  const result = await measureFanout(fanoutShape(process.env, hosts), (line: string) => console.log(new Date().toISOString().slice(11, 19), line));
  console.log(JSON.stringify(result, null, 1));
  process.exit(0);
}
void main();
