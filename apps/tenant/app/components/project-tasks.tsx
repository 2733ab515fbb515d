// EXAMPLE PRODUCT: a project's tasks, drawn by routes/projects-detail.tsx.
import type { components } from "@tenantry/client";
import { Form } from "react-router";
import { CsrfField } from "./csrf";

type Task = components["schemas"]["Task"];
const STATUSES = ["todo", "doing", "done"] as const satisfies readonly Task["status"][];

/** One task per row: its title and status edited in place, and deleted; read-only without `canWrite`. */
export function TaskList({ tasks, canWrite }: { tasks: Task[]; canWrite: boolean }) {
  if (tasks.length === 0) return <p className="muted">No tasks yet.</p>;
  return (
    <ul className="tasks">
      {tasks.map((t) =>
        canWrite ? (
          <li key={t.id} className="row" data-task={t.id}>
            <Form method="post" className="row">
              <CsrfField />
              <input type="hidden" name="intent" value="task-update" />
              <input type="hidden" name="taskId" value={t.id} />
              <label>
                Title
                <input name="title" required maxLength={500} defaultValue={t.title} />
              </label>
              <label>
                Status
                <select name="status" defaultValue={t.status}>
                  {STATUSES.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              </label>
              <button type="submit">Save</button>
            </Form>
            <Form method="post">
              <CsrfField />
              <input type="hidden" name="intent" value="task-delete" />
              <input type="hidden" name="taskId" value={t.id} />
              <button type="submit" className="danger" aria-label={`Delete task ${t.title}`}>
                Delete
              </button>
            </Form>
          </li>
        ) : (
          <li key={t.id} data-task={t.id}>
            {t.title} <span className="badge">{t.status}</span>
          </li>
        ),
      )}
    </ul>
  );
}

/** The form that adds a task to the project. */
export function NewTask({ title }: { title?: string | undefined }) {
  return (
    <Form method="post" className="row card">
      <CsrfField />
      <input type="hidden" name="intent" value="task-create" />
      <label>
        New task
        <input name="title" required maxLength={500} defaultValue={title} />
      </label>
      <button type="submit" className="primary">
        Add task
      </button>
    </Form>
  );
}
