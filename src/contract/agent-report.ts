/** What an agent tells the controller after each apply (POST …/hosts/{id}/report). */
export interface AgentReport {
  revision: number;
  ok: boolean;
  error?: string;
  changes?: number;
}
