// The controller of a job: a Node of its own, shared by every job it ran.
import { graphql } from "relay-runtime";

export const controllerBadgeFragment = graphql`
  fragment ControllerBadge_controller on ControllerInfo {
    id
    controllerId
    name
    provider
  }
`;
