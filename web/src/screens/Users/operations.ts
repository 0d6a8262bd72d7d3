import { graphql } from '@/graphql/generated'

export const UsersQuery = graphql(`
  query Users {
    users {
      id
      name
      email
      role
      createdAt
    }
  }
`)

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($current: String!, $new: String!) {
    changePassword(current: $current, new: $new)
  }
`)

export const CreateUserMutation = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
      name
      email
      role
      createdAt
    }
  }
`)

export const UpdateUserMutation = graphql(`
  mutation UpdateUser($name: String!, $input: UpdateUserInput!) {
    updateUser(name: $name, input: $input) {
      id
      name
      email
      role
    }
  }
`)

export const DeleteUserMutation = graphql(`
  mutation DeleteUser($name: String!) {
    deleteUser(name: $name)
  }
`)
