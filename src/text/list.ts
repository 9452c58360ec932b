/**
 * The one way netdoctor lists things in prose: "a, b and c", and past `max`
 * items "a, b, c and 4 more", so a report stays readable at any cluster size.
 */
export function listText(items: readonly string[], max = 8): string {
  if (items.length > max) return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
