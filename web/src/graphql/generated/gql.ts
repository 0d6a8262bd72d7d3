/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query EditStack($name: String!) {\n    stack(name: $name) {\n      target\n      name\n      options\n      composeFile\n      definition {\n        name\n        version\n      }\n    }\n  }\n": typeof types.EditStackDocument,
    "\n  mutation UpdateStack($name: String!, $input: UpdateStackInput!) {\n    updateStack(name: $name, input: $input) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.UpdateStackDocument,
    "\n  query Images {\n    images {\n      name\n      tag\n      push\n      context\n      dockerfile\n      buildArgs\n      target\n      labels\n      present\n      imageId\n      created\n      size\n      lastBuild {\n        id\n        status\n        finishedAt\n        error\n      }\n    }\n  }\n": typeof types.ImagesDocument,
    "\n  mutation BuildImage($name: String!) {\n    buildImage(name: $name) {\n      ...JobSummary\n    }\n  }\n": typeof types.BuildImageDocument,
    "\n  fragment JobSummary on Job {\n    id\n    kind\n    subject\n    target\n    commit\n    reason\n    status\n    error\n    createdAt\n    startedAt\n    finishedAt\n  }\n": typeof types.JobSummaryFragmentDoc,
    "\n  query Jobs($first: Int!, $after: ID, $stack: String, $image: String, $status: JobStatus, $kind: JobKind) {\n    jobs(first: $first, after: $after, stack: $stack, image: $image, status: $status, kind: $kind) {\n      nodes {\n        ...JobSummary\n      }\n      endCursor\n      hasNextPage\n    }\n  }\n": typeof types.JobsDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobSummary\n      log {\n        seq\n        line\n      }\n    }\n  }\n": typeof types.JobDocument,
    "\n  subscription JobEvents($id: ID) {\n    jobEvents(id: $id) {\n      jobId\n      status\n      error\n      seq\n      line\n    }\n  }\n": typeof types.JobEventsDocument,
    "\n  query StackDefinitions {\n    stackDefinitions {\n      name\n      title\n      description\n      version\n      readme\n      stacks\n    }\n    targets {\n      name\n      reachable\n      swarmManager\n    }\n  }\n": typeof types.StackDefinitionsDocument,
    "\n  query StackDefinition($name: String!) {\n    stackDefinition(name: $name) {\n      name\n      title\n      description\n      version\n      optionsSchema\n      defaults\n      readme\n    }\n  }\n": typeof types.StackDefinitionDocument,
    "\n  mutation PreviewStack($definition: String!, $options: JSON!, $name: String) {\n    previewStack(definition: $definition, options: $options, name: $name) {\n      valid\n      compose\n      warnings\n      problems {\n        field\n        file\n        line\n        message\n      }\n    }\n  }\n": typeof types.PreviewStackDocument,
    "\n  mutation CreateStack($input: CreateStackInput!) {\n    createStack(input: $input) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.CreateStackDocument,
    "\n  fragment StackSummary on Stack {\n    target\n    name\n    enabled\n    syncStatus\n    syncReason\n    health\n    runningTasks\n    desiredTasks\n    deployedCommit\n    desiredCommit\n    definition {\n      name\n      version\n    }\n    lastDeploy {\n      id\n      status\n      finishedAt\n      error\n    }\n  }\n": typeof types.StackSummaryFragmentDoc,
    "\n  query Overview {\n    stacks {\n      ...StackSummary\n    }\n    targets {\n      name\n      host\n      reachable\n      swarmManager\n      lastError\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  query StackSummary($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n    }\n  }\n": typeof types.StackSummaryDocument,
    "\n  subscription StackStatusChanged {\n    stackStatusChanged {\n      ...StackSummary\n    }\n  }\n": typeof types.StackStatusChangedDocument,
    "\n  subscription AllTaskEvents {\n    taskEvents {\n      target\n      stack\n      service\n      taskId\n      state\n    }\n  }\n": typeof types.AllTaskEventsDocument,
    "\n  query Repository {\n    repository {\n      url\n      branch\n      head {\n        sha\n        shortSha\n        message\n        author\n        date\n      }\n      lastFetchAt\n      lastError\n      targets {\n        target\n        lastAppliedCommit\n        lastAppliedAt\n        lastError\n        reconciling\n      }\n    }\n  }\n": typeof types.RepositoryDocument,
    "\n  query Plan($target: String!) {\n    plan(target: $target) {\n      target\n      from\n      to\n      scope\n      dryRun\n      actions {\n        id\n        kind\n        subject\n        target\n        reasons\n        needs\n      }\n      skipped {\n        kind\n        name\n        reason\n      }\n      problems {\n        file\n        line\n        message\n      }\n    }\n  }\n": typeof types.PlanDocument,
    "\n  mutation SyncNow {\n    syncNow\n  }\n": typeof types.SyncNowDocument,
    "\n  query StackDetail($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n      selfHeal\n      dependsOn\n      options\n      composeFile\n      services {\n        name\n        fullName\n        image\n        mode\n        replicas\n        runningTasks\n        updateState\n        tasks {\n          id\n          slot\n          node\n          state\n          desiredState\n          message\n          error\n          image\n          createdAt\n          updatedAt\n        }\n      }\n    }\n  }\n": typeof types.StackDetailDocument,
    "\n  query StackCompose($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      name\n      target\n      composeFile\n      desiredCommit\n      composeText\n    }\n  }\n": typeof types.StackComposeDocument,
    "\n  subscription ServiceLogs($stack: String!, $service: String!, $target: String, $tail: Int) {\n    serviceLogs(stack: $stack, service: $service, target: $target, tail: $tail) {\n      at\n      line\n      stream\n      taskId\n    }\n  }\n": typeof types.ServiceLogsDocument,
    "\n  query StackJobs($stack: String!) {\n    jobs(first: 25, stack: $stack) {\n      nodes {\n        ...JobSummary\n        commitInfo {\n          sha\n          author\n          message\n        }\n      }\n      hasNextPage\n    }\n  }\n": typeof types.StackJobsDocument,
    "\n  subscription StackTaskEvents($stack: String!) {\n    taskEvents(stack: $stack) {\n      target\n      stack\n      taskId\n      state\n    }\n  }\n": typeof types.StackTaskEventsDocument,
    "\n  subscription StackStatus($stack: String!) {\n    stackStatusChanged(stack: $stack) {\n      ...StackSummary\n    }\n  }\n": typeof types.StackStatusDocument,
    "\n  fragment StackChangeFields on StackChange {\n    stack\n    commit\n    created\n    jobId\n    warnings\n  }\n": typeof types.StackChangeFieldsFragmentDoc,
    "\n  mutation RedeployStack($name: String!, $force: Boolean!) {\n    redeployStack(name: $name, force: $force) {\n      ...JobSummary\n    }\n  }\n": typeof types.RedeployStackDocument,
    "\n  mutation SetStackEnabled($name: String!, $enabled: Boolean!, $message: String) {\n    setStackEnabled(name: $name, enabled: $enabled, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.SetStackEnabledDocument,
    "\n  query StackUpgradeDiff($name: String!) {\n    stackUpgradeDiff(name: $name)\n  }\n": typeof types.StackUpgradeDiffDocument,
    "\n  mutation UpgradeStack($name: String!, $message: String) {\n    upgradeStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.UpgradeStackDocument,
    "\n  mutation DeleteStack($name: String!, $message: String) {\n    deleteStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.DeleteStackDocument,
    "\n  mutation RollbackStack($name: String!, $commit: String!, $message: String) {\n    rollbackStack(name: $name, commit: $commit, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": typeof types.RollbackStackDocument,
    "\n  query ApiTokens {\n    apiTokens {\n      id\n      name\n      prefix\n      user {\n        id\n        name\n      }\n      createdAt\n      lastUsedAt\n      expiresAt\n      revokedAt\n      active\n    }\n  }\n": typeof types.ApiTokensDocument,
    "\n  mutation CreateApiToken($name: String!, $expiresInDays: Int) {\n    createApiToken(name: $name, expiresInDays: $expiresInDays) {\n      token\n      apiToken {\n        id\n        name\n        prefix\n      }\n    }\n  }\n": typeof types.CreateApiTokenDocument,
    "\n  mutation RevokeApiToken($id: ID!) {\n    revokeApiToken(id: $id) {\n      id\n      revokedAt\n      active\n    }\n  }\n": typeof types.RevokeApiTokenDocument,
    "\n  query Users {\n    users {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n": typeof types.UsersDocument,
    "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n": typeof types.CreateUserDocument,
    "\n  mutation UpdateUser($name: String!, $input: UpdateUserInput!) {\n    updateUser(name: $name, input: $input) {\n      id\n      name\n      email\n      role\n    }\n  }\n": typeof types.UpdateUserDocument,
    "\n  mutation DeleteUser($name: String!) {\n    deleteUser(name: $name)\n  }\n": typeof types.DeleteUserDocument,
    "\n  query Me {\n    me {\n      id\n      name\n      email\n      role\n    }\n    version\n  }\n": typeof types.MeDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      user {\n        id\n        name\n        email\n        role\n      }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
};
const documents: Documents = {
    "\n  query EditStack($name: String!) {\n    stack(name: $name) {\n      target\n      name\n      options\n      composeFile\n      definition {\n        name\n        version\n      }\n    }\n  }\n": types.EditStackDocument,
    "\n  mutation UpdateStack($name: String!, $input: UpdateStackInput!) {\n    updateStack(name: $name, input: $input) {\n      ...StackChangeFields\n    }\n  }\n": types.UpdateStackDocument,
    "\n  query Images {\n    images {\n      name\n      tag\n      push\n      context\n      dockerfile\n      buildArgs\n      target\n      labels\n      present\n      imageId\n      created\n      size\n      lastBuild {\n        id\n        status\n        finishedAt\n        error\n      }\n    }\n  }\n": types.ImagesDocument,
    "\n  mutation BuildImage($name: String!) {\n    buildImage(name: $name) {\n      ...JobSummary\n    }\n  }\n": types.BuildImageDocument,
    "\n  fragment JobSummary on Job {\n    id\n    kind\n    subject\n    target\n    commit\n    reason\n    status\n    error\n    createdAt\n    startedAt\n    finishedAt\n  }\n": types.JobSummaryFragmentDoc,
    "\n  query Jobs($first: Int!, $after: ID, $stack: String, $image: String, $status: JobStatus, $kind: JobKind) {\n    jobs(first: $first, after: $after, stack: $stack, image: $image, status: $status, kind: $kind) {\n      nodes {\n        ...JobSummary\n      }\n      endCursor\n      hasNextPage\n    }\n  }\n": types.JobsDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobSummary\n      log {\n        seq\n        line\n      }\n    }\n  }\n": types.JobDocument,
    "\n  subscription JobEvents($id: ID) {\n    jobEvents(id: $id) {\n      jobId\n      status\n      error\n      seq\n      line\n    }\n  }\n": types.JobEventsDocument,
    "\n  query StackDefinitions {\n    stackDefinitions {\n      name\n      title\n      description\n      version\n      readme\n      stacks\n    }\n    targets {\n      name\n      reachable\n      swarmManager\n    }\n  }\n": types.StackDefinitionsDocument,
    "\n  query StackDefinition($name: String!) {\n    stackDefinition(name: $name) {\n      name\n      title\n      description\n      version\n      optionsSchema\n      defaults\n      readme\n    }\n  }\n": types.StackDefinitionDocument,
    "\n  mutation PreviewStack($definition: String!, $options: JSON!, $name: String) {\n    previewStack(definition: $definition, options: $options, name: $name) {\n      valid\n      compose\n      warnings\n      problems {\n        field\n        file\n        line\n        message\n      }\n    }\n  }\n": types.PreviewStackDocument,
    "\n  mutation CreateStack($input: CreateStackInput!) {\n    createStack(input: $input) {\n      ...StackChangeFields\n    }\n  }\n": types.CreateStackDocument,
    "\n  fragment StackSummary on Stack {\n    target\n    name\n    enabled\n    syncStatus\n    syncReason\n    health\n    runningTasks\n    desiredTasks\n    deployedCommit\n    desiredCommit\n    definition {\n      name\n      version\n    }\n    lastDeploy {\n      id\n      status\n      finishedAt\n      error\n    }\n  }\n": types.StackSummaryFragmentDoc,
    "\n  query Overview {\n    stacks {\n      ...StackSummary\n    }\n    targets {\n      name\n      host\n      reachable\n      swarmManager\n      lastError\n    }\n  }\n": types.OverviewDocument,
    "\n  query StackSummary($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n    }\n  }\n": types.StackSummaryDocument,
    "\n  subscription StackStatusChanged {\n    stackStatusChanged {\n      ...StackSummary\n    }\n  }\n": types.StackStatusChangedDocument,
    "\n  subscription AllTaskEvents {\n    taskEvents {\n      target\n      stack\n      service\n      taskId\n      state\n    }\n  }\n": types.AllTaskEventsDocument,
    "\n  query Repository {\n    repository {\n      url\n      branch\n      head {\n        sha\n        shortSha\n        message\n        author\n        date\n      }\n      lastFetchAt\n      lastError\n      targets {\n        target\n        lastAppliedCommit\n        lastAppliedAt\n        lastError\n        reconciling\n      }\n    }\n  }\n": types.RepositoryDocument,
    "\n  query Plan($target: String!) {\n    plan(target: $target) {\n      target\n      from\n      to\n      scope\n      dryRun\n      actions {\n        id\n        kind\n        subject\n        target\n        reasons\n        needs\n      }\n      skipped {\n        kind\n        name\n        reason\n      }\n      problems {\n        file\n        line\n        message\n      }\n    }\n  }\n": types.PlanDocument,
    "\n  mutation SyncNow {\n    syncNow\n  }\n": types.SyncNowDocument,
    "\n  query StackDetail($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n      selfHeal\n      dependsOn\n      options\n      composeFile\n      services {\n        name\n        fullName\n        image\n        mode\n        replicas\n        runningTasks\n        updateState\n        tasks {\n          id\n          slot\n          node\n          state\n          desiredState\n          message\n          error\n          image\n          createdAt\n          updatedAt\n        }\n      }\n    }\n  }\n": types.StackDetailDocument,
    "\n  query StackCompose($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      name\n      target\n      composeFile\n      desiredCommit\n      composeText\n    }\n  }\n": types.StackComposeDocument,
    "\n  subscription ServiceLogs($stack: String!, $service: String!, $target: String, $tail: Int) {\n    serviceLogs(stack: $stack, service: $service, target: $target, tail: $tail) {\n      at\n      line\n      stream\n      taskId\n    }\n  }\n": types.ServiceLogsDocument,
    "\n  query StackJobs($stack: String!) {\n    jobs(first: 25, stack: $stack) {\n      nodes {\n        ...JobSummary\n        commitInfo {\n          sha\n          author\n          message\n        }\n      }\n      hasNextPage\n    }\n  }\n": types.StackJobsDocument,
    "\n  subscription StackTaskEvents($stack: String!) {\n    taskEvents(stack: $stack) {\n      target\n      stack\n      taskId\n      state\n    }\n  }\n": types.StackTaskEventsDocument,
    "\n  subscription StackStatus($stack: String!) {\n    stackStatusChanged(stack: $stack) {\n      ...StackSummary\n    }\n  }\n": types.StackStatusDocument,
    "\n  fragment StackChangeFields on StackChange {\n    stack\n    commit\n    created\n    jobId\n    warnings\n  }\n": types.StackChangeFieldsFragmentDoc,
    "\n  mutation RedeployStack($name: String!, $force: Boolean!) {\n    redeployStack(name: $name, force: $force) {\n      ...JobSummary\n    }\n  }\n": types.RedeployStackDocument,
    "\n  mutation SetStackEnabled($name: String!, $enabled: Boolean!, $message: String) {\n    setStackEnabled(name: $name, enabled: $enabled, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": types.SetStackEnabledDocument,
    "\n  query StackUpgradeDiff($name: String!) {\n    stackUpgradeDiff(name: $name)\n  }\n": types.StackUpgradeDiffDocument,
    "\n  mutation UpgradeStack($name: String!, $message: String) {\n    upgradeStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": types.UpgradeStackDocument,
    "\n  mutation DeleteStack($name: String!, $message: String) {\n    deleteStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": types.DeleteStackDocument,
    "\n  mutation RollbackStack($name: String!, $commit: String!, $message: String) {\n    rollbackStack(name: $name, commit: $commit, message: $message) {\n      ...StackChangeFields\n    }\n  }\n": types.RollbackStackDocument,
    "\n  query ApiTokens {\n    apiTokens {\n      id\n      name\n      prefix\n      user {\n        id\n        name\n      }\n      createdAt\n      lastUsedAt\n      expiresAt\n      revokedAt\n      active\n    }\n  }\n": types.ApiTokensDocument,
    "\n  mutation CreateApiToken($name: String!, $expiresInDays: Int) {\n    createApiToken(name: $name, expiresInDays: $expiresInDays) {\n      token\n      apiToken {\n        id\n        name\n        prefix\n      }\n    }\n  }\n": types.CreateApiTokenDocument,
    "\n  mutation RevokeApiToken($id: ID!) {\n    revokeApiToken(id: $id) {\n      id\n      revokedAt\n      active\n    }\n  }\n": types.RevokeApiTokenDocument,
    "\n  query Users {\n    users {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n": types.UsersDocument,
    "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new)\n  }\n": types.ChangePasswordDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n": types.CreateUserDocument,
    "\n  mutation UpdateUser($name: String!, $input: UpdateUserInput!) {\n    updateUser(name: $name, input: $input) {\n      id\n      name\n      email\n      role\n    }\n  }\n": types.UpdateUserDocument,
    "\n  mutation DeleteUser($name: String!) {\n    deleteUser(name: $name)\n  }\n": types.DeleteUserDocument,
    "\n  query Me {\n    me {\n      id\n      name\n      email\n      role\n    }\n    version\n  }\n": types.MeDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      user {\n        id\n        name\n        email\n        role\n      }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EditStack($name: String!) {\n    stack(name: $name) {\n      target\n      name\n      options\n      composeFile\n      definition {\n        name\n        version\n      }\n    }\n  }\n"): (typeof documents)["\n  query EditStack($name: String!) {\n    stack(name: $name) {\n      target\n      name\n      options\n      composeFile\n      definition {\n        name\n        version\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateStack($name: String!, $input: UpdateStackInput!) {\n    updateStack(name: $name, input: $input) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateStack($name: String!, $input: UpdateStackInput!) {\n    updateStack(name: $name, input: $input) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Images {\n    images {\n      name\n      tag\n      push\n      context\n      dockerfile\n      buildArgs\n      target\n      labels\n      present\n      imageId\n      created\n      size\n      lastBuild {\n        id\n        status\n        finishedAt\n        error\n      }\n    }\n  }\n"): (typeof documents)["\n  query Images {\n    images {\n      name\n      tag\n      push\n      context\n      dockerfile\n      buildArgs\n      target\n      labels\n      present\n      imageId\n      created\n      size\n      lastBuild {\n        id\n        status\n        finishedAt\n        error\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BuildImage($name: String!) {\n    buildImage(name: $name) {\n      ...JobSummary\n    }\n  }\n"): (typeof documents)["\n  mutation BuildImage($name: String!) {\n    buildImage(name: $name) {\n      ...JobSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobSummary on Job {\n    id\n    kind\n    subject\n    target\n    commit\n    reason\n    status\n    error\n    createdAt\n    startedAt\n    finishedAt\n  }\n"): (typeof documents)["\n  fragment JobSummary on Job {\n    id\n    kind\n    subject\n    target\n    commit\n    reason\n    status\n    error\n    createdAt\n    startedAt\n    finishedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($first: Int!, $after: ID, $stack: String, $image: String, $status: JobStatus, $kind: JobKind) {\n    jobs(first: $first, after: $after, stack: $stack, image: $image, status: $status, kind: $kind) {\n      nodes {\n        ...JobSummary\n      }\n      endCursor\n      hasNextPage\n    }\n  }\n"): (typeof documents)["\n  query Jobs($first: Int!, $after: ID, $stack: String, $image: String, $status: JobStatus, $kind: JobKind) {\n    jobs(first: $first, after: $after, stack: $stack, image: $image, status: $status, kind: $kind) {\n      nodes {\n        ...JobSummary\n      }\n      endCursor\n      hasNextPage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobSummary\n      log {\n        seq\n        line\n      }\n    }\n  }\n"): (typeof documents)["\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobSummary\n      log {\n        seq\n        line\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobEvents($id: ID) {\n    jobEvents(id: $id) {\n      jobId\n      status\n      error\n      seq\n      line\n    }\n  }\n"): (typeof documents)["\n  subscription JobEvents($id: ID) {\n    jobEvents(id: $id) {\n      jobId\n      status\n      error\n      seq\n      line\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackDefinitions {\n    stackDefinitions {\n      name\n      title\n      description\n      version\n      readme\n      stacks\n    }\n    targets {\n      name\n      reachable\n      swarmManager\n    }\n  }\n"): (typeof documents)["\n  query StackDefinitions {\n    stackDefinitions {\n      name\n      title\n      description\n      version\n      readme\n      stacks\n    }\n    targets {\n      name\n      reachable\n      swarmManager\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackDefinition($name: String!) {\n    stackDefinition(name: $name) {\n      name\n      title\n      description\n      version\n      optionsSchema\n      defaults\n      readme\n    }\n  }\n"): (typeof documents)["\n  query StackDefinition($name: String!) {\n    stackDefinition(name: $name) {\n      name\n      title\n      description\n      version\n      optionsSchema\n      defaults\n      readme\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PreviewStack($definition: String!, $options: JSON!, $name: String) {\n    previewStack(definition: $definition, options: $options, name: $name) {\n      valid\n      compose\n      warnings\n      problems {\n        field\n        file\n        line\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation PreviewStack($definition: String!, $options: JSON!, $name: String) {\n    previewStack(definition: $definition, options: $options, name: $name) {\n      valid\n      compose\n      warnings\n      problems {\n        field\n        file\n        line\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateStack($input: CreateStackInput!) {\n    createStack(input: $input) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateStack($input: CreateStackInput!) {\n    createStack(input: $input) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StackSummary on Stack {\n    target\n    name\n    enabled\n    syncStatus\n    syncReason\n    health\n    runningTasks\n    desiredTasks\n    deployedCommit\n    desiredCommit\n    definition {\n      name\n      version\n    }\n    lastDeploy {\n      id\n      status\n      finishedAt\n      error\n    }\n  }\n"): (typeof documents)["\n  fragment StackSummary on Stack {\n    target\n    name\n    enabled\n    syncStatus\n    syncReason\n    health\n    runningTasks\n    desiredTasks\n    deployedCommit\n    desiredCommit\n    definition {\n      name\n      version\n    }\n    lastDeploy {\n      id\n      status\n      finishedAt\n      error\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview {\n    stacks {\n      ...StackSummary\n    }\n    targets {\n      name\n      host\n      reachable\n      swarmManager\n      lastError\n    }\n  }\n"): (typeof documents)["\n  query Overview {\n    stacks {\n      ...StackSummary\n    }\n    targets {\n      name\n      host\n      reachable\n      swarmManager\n      lastError\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackSummary($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n    }\n  }\n"): (typeof documents)["\n  query StackSummary($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription StackStatusChanged {\n    stackStatusChanged {\n      ...StackSummary\n    }\n  }\n"): (typeof documents)["\n  subscription StackStatusChanged {\n    stackStatusChanged {\n      ...StackSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AllTaskEvents {\n    taskEvents {\n      target\n      stack\n      service\n      taskId\n      state\n    }\n  }\n"): (typeof documents)["\n  subscription AllTaskEvents {\n    taskEvents {\n      target\n      stack\n      service\n      taskId\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Repository {\n    repository {\n      url\n      branch\n      head {\n        sha\n        shortSha\n        message\n        author\n        date\n      }\n      lastFetchAt\n      lastError\n      targets {\n        target\n        lastAppliedCommit\n        lastAppliedAt\n        lastError\n        reconciling\n      }\n    }\n  }\n"): (typeof documents)["\n  query Repository {\n    repository {\n      url\n      branch\n      head {\n        sha\n        shortSha\n        message\n        author\n        date\n      }\n      lastFetchAt\n      lastError\n      targets {\n        target\n        lastAppliedCommit\n        lastAppliedAt\n        lastError\n        reconciling\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Plan($target: String!) {\n    plan(target: $target) {\n      target\n      from\n      to\n      scope\n      dryRun\n      actions {\n        id\n        kind\n        subject\n        target\n        reasons\n        needs\n      }\n      skipped {\n        kind\n        name\n        reason\n      }\n      problems {\n        file\n        line\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  query Plan($target: String!) {\n    plan(target: $target) {\n      target\n      from\n      to\n      scope\n      dryRun\n      actions {\n        id\n        kind\n        subject\n        target\n        reasons\n        needs\n      }\n      skipped {\n        kind\n        name\n        reason\n      }\n      problems {\n        file\n        line\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SyncNow {\n    syncNow\n  }\n"): (typeof documents)["\n  mutation SyncNow {\n    syncNow\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackDetail($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n      selfHeal\n      dependsOn\n      options\n      composeFile\n      services {\n        name\n        fullName\n        image\n        mode\n        replicas\n        runningTasks\n        updateState\n        tasks {\n          id\n          slot\n          node\n          state\n          desiredState\n          message\n          error\n          image\n          createdAt\n          updatedAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query StackDetail($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      ...StackSummary\n      selfHeal\n      dependsOn\n      options\n      composeFile\n      services {\n        name\n        fullName\n        image\n        mode\n        replicas\n        runningTasks\n        updateState\n        tasks {\n          id\n          slot\n          node\n          state\n          desiredState\n          message\n          error\n          image\n          createdAt\n          updatedAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackCompose($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      name\n      target\n      composeFile\n      desiredCommit\n      composeText\n    }\n  }\n"): (typeof documents)["\n  query StackCompose($name: String!, $target: String) {\n    stack(name: $name, target: $target) {\n      name\n      target\n      composeFile\n      desiredCommit\n      composeText\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ServiceLogs($stack: String!, $service: String!, $target: String, $tail: Int) {\n    serviceLogs(stack: $stack, service: $service, target: $target, tail: $tail) {\n      at\n      line\n      stream\n      taskId\n    }\n  }\n"): (typeof documents)["\n  subscription ServiceLogs($stack: String!, $service: String!, $target: String, $tail: Int) {\n    serviceLogs(stack: $stack, service: $service, target: $target, tail: $tail) {\n      at\n      line\n      stream\n      taskId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackJobs($stack: String!) {\n    jobs(first: 25, stack: $stack) {\n      nodes {\n        ...JobSummary\n        commitInfo {\n          sha\n          author\n          message\n        }\n      }\n      hasNextPage\n    }\n  }\n"): (typeof documents)["\n  query StackJobs($stack: String!) {\n    jobs(first: 25, stack: $stack) {\n      nodes {\n        ...JobSummary\n        commitInfo {\n          sha\n          author\n          message\n        }\n      }\n      hasNextPage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription StackTaskEvents($stack: String!) {\n    taskEvents(stack: $stack) {\n      target\n      stack\n      taskId\n      state\n    }\n  }\n"): (typeof documents)["\n  subscription StackTaskEvents($stack: String!) {\n    taskEvents(stack: $stack) {\n      target\n      stack\n      taskId\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription StackStatus($stack: String!) {\n    stackStatusChanged(stack: $stack) {\n      ...StackSummary\n    }\n  }\n"): (typeof documents)["\n  subscription StackStatus($stack: String!) {\n    stackStatusChanged(stack: $stack) {\n      ...StackSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StackChangeFields on StackChange {\n    stack\n    commit\n    created\n    jobId\n    warnings\n  }\n"): (typeof documents)["\n  fragment StackChangeFields on StackChange {\n    stack\n    commit\n    created\n    jobId\n    warnings\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeployStack($name: String!, $force: Boolean!) {\n    redeployStack(name: $name, force: $force) {\n      ...JobSummary\n    }\n  }\n"): (typeof documents)["\n  mutation RedeployStack($name: String!, $force: Boolean!) {\n    redeployStack(name: $name, force: $force) {\n      ...JobSummary\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetStackEnabled($name: String!, $enabled: Boolean!, $message: String) {\n    setStackEnabled(name: $name, enabled: $enabled, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation SetStackEnabled($name: String!, $enabled: Boolean!, $message: String) {\n    setStackEnabled(name: $name, enabled: $enabled, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StackUpgradeDiff($name: String!) {\n    stackUpgradeDiff(name: $name)\n  }\n"): (typeof documents)["\n  query StackUpgradeDiff($name: String!) {\n    stackUpgradeDiff(name: $name)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpgradeStack($name: String!, $message: String) {\n    upgradeStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpgradeStack($name: String!, $message: String) {\n    upgradeStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteStack($name: String!, $message: String) {\n    deleteStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteStack($name: String!, $message: String) {\n    deleteStack(name: $name, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RollbackStack($name: String!, $commit: String!, $message: String) {\n    rollbackStack(name: $name, commit: $commit, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"): (typeof documents)["\n  mutation RollbackStack($name: String!, $commit: String!, $message: String) {\n    rollbackStack(name: $name, commit: $commit, message: $message) {\n      ...StackChangeFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiTokens {\n    apiTokens {\n      id\n      name\n      prefix\n      user {\n        id\n        name\n      }\n      createdAt\n      lastUsedAt\n      expiresAt\n      revokedAt\n      active\n    }\n  }\n"): (typeof documents)["\n  query ApiTokens {\n    apiTokens {\n      id\n      name\n      prefix\n      user {\n        id\n        name\n      }\n      createdAt\n      lastUsedAt\n      expiresAt\n      revokedAt\n      active\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiToken($name: String!, $expiresInDays: Int) {\n    createApiToken(name: $name, expiresInDays: $expiresInDays) {\n      token\n      apiToken {\n        id\n        name\n        prefix\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiToken($name: String!, $expiresInDays: Int) {\n    createApiToken(name: $name, expiresInDays: $expiresInDays) {\n      token\n      apiToken {\n        id\n        name\n        prefix\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiToken($id: ID!) {\n    revokeApiToken(id: $id) {\n      id\n      revokedAt\n      active\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiToken($id: ID!) {\n    revokeApiToken(id: $id) {\n      id\n      revokedAt\n      active\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users {\n    users {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query Users {\n    users {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new)\n  }\n"): (typeof documents)["\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) {\n      id\n      name\n      email\n      role\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateUser($name: String!, $input: UpdateUserInput!) {\n    updateUser(name: $name, input: $input) {\n      id\n      name\n      email\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateUser($name: String!, $input: UpdateUserInput!) {\n    updateUser(name: $name, input: $input) {\n      id\n      name\n      email\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteUser($name: String!) {\n    deleteUser(name: $name)\n  }\n"): (typeof documents)["\n  mutation DeleteUser($name: String!) {\n    deleteUser(name: $name)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      name\n      email\n      role\n    }\n    version\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      name\n      email\n      role\n    }\n    version\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      user {\n        id\n        name\n        email\n        role\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      user {\n        id\n        name\n        email\n        role\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;