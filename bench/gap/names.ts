/** An output's name as a file name (graph names may hold '/' and ':'). */
export const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');
