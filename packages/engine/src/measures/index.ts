// Customer-experience measures over any period, overall and by stage or acquisition channel.
export {
  computeMeasures,
  MeasuresQuery,
  MeasuresQueryError,
  type Measures,
  type MeasuresGroup,
  type MeasuresGroupBy,
  type MeasuresReport,
} from "./measures.js";
export { channelEconomics, type ChannelEconomics } from "./channel-economics.js";
