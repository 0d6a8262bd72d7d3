import { graphql } from '@/graphql/generated'

export const MeQuery = graphql(`
  query Me {
    me {
      id
      name
      email
      role
    }
    version
  }
`)

export const LoginMutation = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      user {
        id
        name
        email
        role
      }
    }
  }
`)

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`)
