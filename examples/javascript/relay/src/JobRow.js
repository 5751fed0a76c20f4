// A job as a list row shows it; refetchable on its own through `node(id:)`.
import { graphql } from "relay-runtime";

export const jobRowFragment = graphql`
  fragment JobRow_job on Job @refetchable(queryName: "JobRowRefetchQuery") {
    id
    jobId
    status
    totalTasks
    remainedTasks
    createdAt
    errors { errorCode message }
    controllerInfo { ...ControllerBadge_controller }
  }
`;
