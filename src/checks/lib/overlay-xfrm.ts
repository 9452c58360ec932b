export { parseXfrmState, type XfrmState } from '../../parse/xfrm.js';
